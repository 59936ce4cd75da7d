namespace HpcCnn.Nn;

/// <summary>How a classifier did on a data set: accuracy, mean loss and the confusion matrix.</summary>
public sealed class Evaluation
{
    private readonly long[,] counts;

    /// <param name="counts">counts[true class, predicted class].</param>
    /// <param name="loss">The mean loss.</param>
    /// <param name="classNames">The classes, by label.</param>
    public Evaluation(long[,] counts, double loss, IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(counts);
        if (counts.GetLength(0) != classNames.Count || counts.GetLength(1) != classNames.Count)
            throw new ArgumentException($"a confusion matrix of {classNames.Count} classes is {classNames.Count}×{classNames.Count}", nameof(counts));
        this.counts = counts;
        Loss = loss;
        ClassNames = classNames;
    }

    public IReadOnlyList<string> ClassNames { get; }
    public int Classes => ClassNames.Count;
    /// <summary>Mean cross-entropy loss.</summary>
    public double Loss { get; }

    /// <summary>Images of class <paramref name="actual"/> predicted as <paramref name="predicted"/>.</summary>
    public long this[int actual, int predicted] => counts[actual, predicted];

    public long Correct => Enumerable.Range(0, Classes).Sum(c => counts[c, c]);
    public long Count => counts.Cast<long>().Sum();
    public double Accuracy => Count == 0 ? 0 : (double)Correct / Count;

    /// <summary>Of the images predicted as <paramref name="c"/>, the share that are (NaN when none was predicted so).</summary>
    public double Precision(int c)
    {
        long predicted = Enumerable.Range(0, Classes).Sum(a => counts[a, c]);
        return predicted == 0 ? double.NaN : (double)counts[c, c] / predicted;
    }

    /// <summary>Of the images of class <paramref name="c"/>, the share found (NaN when there are none).</summary>
    public double Recall(int c)
    {
        long actual = Enumerable.Range(0, Classes).Sum(p => counts[c, p]);
        return actual == 0 ? double.NaN : (double)counts[c, c] / actual;
    }

    /// <summary>The matrix as rows of the true class.</summary>
    public long[][] ToRows() => [.. Enumerable.Range(0, Classes).Select(a => Enumerable.Range(0, Classes).Select(p => counts[a, p]).ToArray())];

    /// <summary>Runs <paramref name="network"/> in evaluation mode over <paramref name="data"/>.</summary>
    /// <exception cref="ArgumentException">The data's image shape or classes do not match the network.</exception>
    public static Evaluation Run(Network network, ImageDataset data, int batchSize = 256)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(data);
        Trainer.CheckFits(network, data);
        int classes = network.Classes, size = checked((int)data.Shape.Size);
        var counts = new long[classes, classes];
        double lossSum = 0;
        int chunk = Math.Max(batchSize, 1);
        var images = new float[chunk * size];
        var labels = new int[chunk];
        var probabilities = new float[chunk * classes];
        var indices = new int[chunk];
        for (int start = 0; start < data.Count; start += chunk)
        {
            int n = Math.Min(chunk, data.Count - start);
            for (int i = 0; i < n; i++) indices[i] = start + i;
            data.Gather(indices.AsSpan(0, n), images, labels);
            lossSum += (double)network.Predict(images.AsSpan(0, n * size), probabilities, labels.AsSpan(0, n), chunk) * n;
            for (int i = 0; i < n; i++) counts[labels[i], ArgMax(probabilities.AsSpan(i * classes, classes))]++;
        }
        return new Evaluation(counts, data.Count == 0 ? double.NaN : lossSum / data.Count, data.ClassNames);
    }

    /// <summary>The index of the largest value (the first of equals).</summary>
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
            if (values[i] > values[best]) best = i;
        return best;
    }
}
