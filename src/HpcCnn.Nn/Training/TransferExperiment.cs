using System.Diagnostics;
using HpcCnn.Training;

namespace HpcCnn.Nn;

/// <summary>Settings of <see cref="TransferExperiment"/>.</summary>
public sealed record TransferOptions
{
    /// <summary>The preset the trunk comes from.</summary>
    public string Model { get; init; } = "strong";
    /// <summary>The last trunk layer kept (pool2: the convolutional features of lenet5 and strong; the layers after it give way to the new head).</summary>
    public string Through { get; init; } = "pool2";
    /// <summary>The classes the trunk learns, and the other classes the new head learns.</summary>
    public IReadOnlyList<int> TrunkClasses { get; init; } = [0, 1, 2, 3, 4];
    public IReadOnlyList<int> NewClasses { get; init; } = [5, 6, 7, 8, 9];
    public int TrunkEpochs { get; init; } = 3;
    /// <summary>Labelled images of the new classes both arms train on.</summary>
    public int Labelled { get; init; } = 1000;
    /// <summary>Training budgets to compare, in epochs over the labelled images, each the same for both arms.</summary>
    public IReadOnlyList<int> Epochs { get; init; } = [1, 2, 3, 5, 10];
    public int BatchSize { get; init; } = 32;
    public float LearningRate { get; init; } = 0.02f;
    public ulong Seed { get; init; } = 1;
}

/// <summary>One model of the experiment: what it trained, how long, how well it did on the test images of its classes.</summary>
public sealed record TransferArm(string Name, string TrainedOn, long TrainableParameters, int Epochs, double Seconds, Evaluation Test);

/// <summary>
/// Transfer learning, measured: a trunk trained on some classes, its layers through
/// <see cref="TransferOptions.Through"/> loaded by name from safetensors into a model with a new
/// head, frozen, and only the head trained on a few labelled images of the other classes; against
/// the same model trained from scratch on the same images for the same epochs; for each budget in
/// <see cref="TransferOptions.Epochs"/>.
/// </summary>
public static class TransferExperiment
{
    public static (TransferArm Trunk, IReadOnlyList<(TransferArm Transferred, TransferArm Scratch)> Budgets) Run(Backend backend, ImageDataset train,
        ImageDataset test, TransferOptions options, string workFolder, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var trunkTrain = train.OfClasses(options.TrunkClasses);
        var trunkTest = test.OfClasses(options.TrunkClasses);
        var newTrain = train.OfClasses(options.NewClasses, options.Labelled);
        var newTest = test.OfClasses(options.NewClasses);

        var trunkModel = Models.Create(options.Model, options.TrunkClasses.Count, train.Shape);
        string trunkFile = Path.Combine(workFolder, "trunk.safetensors");
        TransferArm trunk;
        using (var network = trunkModel.Build(backend, options.Seed))
        {
            log?.Invoke($"trunk: {options.Model} on {trunkTrain.Count} images of classes {string.Join(", ", trunkTrain.ClassNames)}");
            trunk = Train("trunk", network, trunkTrain, trunkTest, options, options.TrunkEpochs);
            network.SaveWeights(trunkFile);
        }

        var headModel = new Sequential(train.Shape, [.. trunkModel.Through(options.Through), new Dense(options.NewClasses.Count, name: "head")]);
        var budgets = new List<(TransferArm, TransferArm)>();
        foreach (int epochs in options.Epochs)
        {
            TransferArm transferred, scratch;
            using (var network = headModel.Build(backend, options.Seed + 1))
            {
                var (report, _) = network.LoadWeights(trunkFile, allowMissing: true, allowUnexpected: true);
                if (budgets.Count == 0)
                    log?.Invoke($"transferred: loaded {string.Join(", ", report.Loaded)}; new {string.Join(", ", report.Missing)}; left out {string.Join(", ", report.Unexpected)}");
                network.Freeze(options.Through);
                transferred = Train("transferred (trunk frozen, new head)", network, newTrain, newTest, options, epochs);
            }
            using (var network = headModel.Build(backend, options.Seed + 1))
                scratch = Train("from scratch (same model)", network, newTrain, newTest, options, epochs);
            budgets.Add((transferred, scratch));
        }
        return (trunk, budgets);
    }

    private static TransferArm Train(string name, Network network, ImageDataset data, ImageDataset test, TransferOptions options, int epochs)
    {
        using var sgd = new SgdOptimizer(new Sgd { LearningRate = options.LearningRate, Momentum = 0.9f });
        var trainer = new Trainer(network, sgd, new TrainerOptions { Epochs = epochs, BatchSize = options.BatchSize, Seed = options.Seed });
        var clock = Stopwatch.StartNew();
        for (int epoch = 0; epoch < epochs; epoch++) trainer.TrainEpoch(epoch, data);
        double seconds = clock.Elapsed.TotalSeconds;
        long trainable = network.Parameters.Where(p => !p.Frozen).Sum(p => p.Length);
        return new TransferArm(name, data.Source, trainable, epochs, seconds, Evaluation.Run(network, test));
    }
}
