using System.Diagnostics;

namespace HpcCnn.Nn;

/// <summary>Settings of a training run.</summary>
public sealed record TrainerOptions
{
    public int Epochs { get; init; } = 5;
    public int BatchSize { get; init; } = 64;
    /// <summary>Seeds the order of the images in each epoch.</summary>
    public ulong Seed { get; init; } = 1;
    public LearningRateSchedule Schedule { get; init; } = LearningRateSchedule.Constant;
    /// <summary>The batch size of evaluation (results do not depend on it).</summary>
    public int EvaluationBatchSize { get; init; } = 256;
}

/// <summary>What one epoch did.</summary>
public sealed record EpochResult(int Epoch, float LearningRate, double TrainLoss, double ImagesPerSecond, double Seconds, Evaluation Test)
{
    public double TestLoss => Test.Loss;
    public double TestAccuracy => Test.Accuracy;
}

/// <summary>Progress within an epoch: images done of the total, the mean loss so far and the speed.</summary>
public readonly record struct TrainingProgress(int Epoch, int Images, int Total, double MeanLoss, double ImagesPerSecond);

/// <summary>
/// Mini-batch training with categorical cross-entropy: each epoch visits every training image once
/// in an order shuffled from the seed and the epoch (the last batch holds what is left), then
/// evaluates on the test set. Reproducible bit for bit for a seed on the CPU at any thread count.
/// </summary>
public sealed class Trainer(Network network, Optimizer optimizer, TrainerOptions options)
{
    private readonly float initialRate = optimizer.LearningRate;

    public Network Network { get; } = network;
    public Optimizer Optimizer { get; } = optimizer;
    public TrainerOptions Options { get; } = Checked(options);

    /// <summary>Runs <see cref="TrainerOptions.Epochs"/> epochs; <paramref name="onEpoch"/> sees each result as it comes.</summary>
    public IReadOnlyList<EpochResult> Fit(ImageDataset train, ImageDataset test, IProgress<TrainingProgress>? progress = null,
        Action<EpochResult>? onEpoch = null, CancellationToken cancellation = default)
    {
        var results = new List<EpochResult>();
        for (int epoch = 0; epoch < Options.Epochs; epoch++)
        {
            var result = RunEpoch(epoch, train, test, progress, cancellation);
            results.Add(result);
            onEpoch?.Invoke(result);
        }
        return results;
    }

    /// <summary>One epoch of training on <paramref name="train"/> and an evaluation on <paramref name="test"/>.</summary>
    public EpochResult RunEpoch(int epoch, ImageDataset train, ImageDataset test, IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellation = default)
    {
        CheckFits(Network, test);
        var clock = Stopwatch.StartNew();
        var (rate, loss) = TrainEpoch(epoch, train, progress, cancellation);
        double seconds = clock.Elapsed.TotalSeconds;
        var evaluation = Evaluation.Run(Network, test, Options.EvaluationBatchSize);
        return new EpochResult(epoch, rate, loss, train.Count / seconds, seconds, evaluation);
    }

    /// <summary>One epoch of training without evaluation: returns the epoch's learning rate and mean training loss.</summary>
    public (float LearningRate, double MeanLoss) TrainEpoch(int epoch, ImageDataset train, IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellation = default)
    {
        CheckFits(Network, train);
        float rate = Options.Schedule.Rate(initialRate, epoch);
        Optimizer.LearningRate = rate;
        int size = checked((int)train.Shape.Size), batch = Options.BatchSize;
        var order = Shuffle(train.Count, Options.Seed, epoch);
        var images = new float[batch * size];
        var labels = new int[batch];
        double lossSum = 0;
        var clock = Stopwatch.StartNew();
        for (int start = 0; start < train.Count; start += batch)
        {
            cancellation.ThrowIfCancellationRequested();
            int n = Math.Min(batch, train.Count - start);
            train.Gather(order.AsSpan(start, n), images, labels);
            lossSum += (double)Network.TrainStep(images.AsSpan(0, n * size), labels.AsSpan(0, n), Optimizer) * n;
            int done = start + n;
            progress?.Report(new TrainingProgress(epoch, done, train.Count, lossSum / done, done / clock.Elapsed.TotalSeconds));
        }
        return (rate, lossSum / Math.Max(train.Count, 1));
    }

    /// <summary>A permutation of 0 .. count−1 from (seed, epoch): Fisher–Yates driven by SplitMix64.</summary>
    public static int[] Shuffle(int count, ulong seed, int epoch)
    {
        var order = new int[count];
        for (int i = 0; i < count; i++) order[i] = i;
        ulong state = Initialization.Mix(seed ^ ((ulong)epoch * 0xD1B54A32D192ED03UL));
        for (int i = count - 1; i > 0; i--)
        {
            state = Initialization.Mix(state);
            int j = (int)(state % (ulong)(i + 1));
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    internal static void CheckFits(Network network, ImageDataset data)
    {
        if (data.Shape != network.Model.InputShape)
            throw new ArgumentException($"{data.Source}: images of {data.Shape}, the model takes {network.Model.InputShape}", nameof(data));
        if (data.Classes != network.Classes)
            throw new ArgumentException($"{data.Source}: {data.Classes} classes, the model tells {network.Classes} apart", nameof(data));
    }

    private static TrainerOptions Checked(TrainerOptions o)
    {
        ArgumentNullException.ThrowIfNull(o);
        ArgumentOutOfRangeException.ThrowIfLessThan(o.Epochs, 0, nameof(o.Epochs));
        ArgumentOutOfRangeException.ThrowIfLessThan(o.BatchSize, 1, nameof(o.BatchSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(o.EvaluationBatchSize, 1, nameof(o.EvaluationBatchSize));
        ArgumentNullException.ThrowIfNull(o.Schedule, nameof(o.Schedule));
        return o;
    }
}
