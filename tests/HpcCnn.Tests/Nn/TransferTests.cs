using HpcCnn.Cpu;
using HpcCnn.Nn;

namespace HpcCnn.Tests.Nn;

/// <summary>Transfer learning: a trunk's layers by name into a model with a new head, frozen, the head trained.</summary>
public sealed class TransferTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("hpccnn-transfer-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void A_new_head_on_a_frozen_trunk_learns_new_classes_and_leaves_the_trunk_untouched()
    {
        var train = ImageDataset.FashionMnistSample(train: true);
        var test = ImageDataset.FashionMnistSample(train: false);
        using var cpu = new CpuBackend();
        var options = new TransferOptions { TrunkEpochs = 2, Epochs = [2], Labelled = 500 };
        var lines = new List<string>();
        var (trunk, budgets) = TransferExperiment.Run(cpu, train, test, options, folder, lines.Add);
        var (transferred, scratch) = budgets.Single();

        Assert.Equal(["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat"], trunk.Test.ClassNames);
        Assert.Equal(["Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"], transferred.Test.ClassNames);
        // Loaded by name: the convolutions; new: the head; left out: the old dense layers.
        Assert.Contains(lines, l => l.Contains("loaded conv1.weight, conv1.bias, conv2.weight, conv2.bias;") && l.Contains("new head.weight, head.bias")
                                    && l.Contains("left out fc1.weight"));
        Assert.Equal(400 * 5 + 5, transferred.TrainableParameters);   // only the head trains
        Assert.Equal(156 + 2416 + 2005, scratch.TrainableParameters);
        // 2,005 trainable weights on the trunk's features tell the five new classes apart far above chance (20%).
        Assert.True(transferred.Test.Accuracy > 0.6, $"transferred head: {transferred.Test.Accuracy:P1}");
        Assert.True(trunk.Test.Accuracy > 0.6, $"trunk: {trunk.Test.Accuracy:P1}");
    }

    [Fact]
    public void Freezing_through_a_layer_keeps_it_bit_identical_and_loading_reports_names()
    {
        using var cpu = new CpuBackend();
        using var trunk = Models.LeNet5(5).Build(cpu, seed: 4);
        var path = Path.Combine(folder, "trunk.safetensors");
        trunk.SaveWeights(path);
        var model = new Sequential(Models.MnistShape, [.. Models.LeNet5(5).Through("pool2"), new Dense(3, name: "head")]);
        using var network = model.Build(cpu, seed: 9);
        var e = Assert.Throws<InvalidDataException>(() => network.LoadWeights(path));
        Assert.Contains("missing head.weight, head.bias", e.Message);
        Assert.Contains("unexpected fc1.weight", e.Message);
        var (report, _) = network.LoadWeights(path, allowMissing: true, allowUnexpected: true);
        Assert.Equal(["head.weight", "head.bias"], report.Missing);
        Assert.Equal(trunk["conv2.weight"].Download(), network["conv2.weight"].Download());

        Assert.Equal(156 + 2416, network.Freeze("pool2"));
        var before = network.Parameters.ToDictionary(p => p.Name, p => p.Download());
        using var sgd = new SgdOptimizer(new Training.Sgd { LearningRate = 0.1f });
        var data = ImageDataset.FashionMnistSample(train: true).OfClasses([0, 1, 2], 64);
        var images = new float[64 * 784];
        var labels = new int[64];
        data.Gather([.. Enumerable.Range(0, 64)], images, labels);
        network.TrainStep(images, labels, sgd);
        foreach (var p in network.Parameters)
            Assert.True(p.Frozen == before[p.Name].AsSpan().SequenceEqual(p.Download()), $"{p.Name}: frozen {p.Frozen}");
        Assert.Throws<KeyNotFoundException>(() => network.Freeze("nothing"));
    }

    [Fact]
    public void Class_subsets_relabel_in_the_order_given()
    {
        var data = ImageDataset.FashionMnistSample(train: false);
        var subset = data.OfClasses([9, 0], 30);
        Assert.Equal(["Ankle boot", "T-shirt/top"], subset.ClassNames);
        Assert.Equal(30, subset.Count);
        var original = Enumerable.Range(0, data.Count).Where(i => data.Labels[i] is 9 or 0).Take(30).Select(i => data.Labels[i] == 9 ? 0 : 1);
        Assert.Equal(original, subset.Labels.ToArray());
        Assert.Throws<ArgumentException>(() => data.OfClasses([1, 1]));
        Assert.Throws<ArgumentException>(() => data.OfClasses([10]));
    }
}
