using System.Globalization;
using System.Text.Json;

namespace HpcCnn.Tests.Nn;

/// <summary>`hpccnn train` and `hpccnn evaluate` as a user runs them.</summary>
public sealed class TrainCommandTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("hpccnn-train-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void Train_writes_plots_metrics_and_weights_that_evaluate_reads_back()
    {
        var (code, output) = CliRunner.Run(null, "train", "--epochs", "2", "--limit", "640", "--threads", "2", "--out", folder);
        Assert.True(code == 0, output);
        Assert.Contains("Fashion-MNIST sample embedded in HpcCnn.Nn", output);
        Assert.Contains("confusion matrix", output);
        Assert.Contains("Ankle boot", output);
        foreach (var file in new[] { "confusion.png", "curves.png", "metrics.json", "model.safetensors" })
            Assert.True(new FileInfo(Path.Combine(folder, file)).Length > 0, file);
        var png = File.ReadAllBytes(Path.Combine(folder, "curves.png"));
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);

        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "metrics.json")));
        var root = metrics.RootElement;
        Assert.Equal("lenet5", root.GetProperty("model").GetString());
        Assert.Equal(640, root.GetProperty("data").GetProperty("train_images").GetInt32());
        Assert.Equal(2, root.GetProperty("epochs").GetArrayLength());
        double accuracy = root.GetProperty("final").GetProperty("accuracy").GetDouble();
        var confusion = root.GetProperty("final").GetProperty("confusion");
        Assert.Equal(1000, confusion.EnumerateArray().SelectMany(r => r.EnumerateArray()).Sum(c => c.GetInt64()));

        // The saved model, evaluated again (on another backend), gives the same accuracy.
        var (evalCode, evalOutput) = CliRunner.Run(null, "evaluate", "--weights", Path.Combine(folder, "model.safetensors"), "--backend", "reference");
        Assert.True(evalCode == 0, evalOutput);
        Assert.Contains($"accuracy {accuracy.ToString("P2", CultureInfo.CurrentCulture)}", evalOutput);
    }

    [Fact]
    public void Missing_or_damaged_data_is_a_clear_error()
    {
        var (code, output) = CliRunner.Run(null, "train", "--data", Path.Combine(folder, "none"));
        Assert.Equal(2, code);
        Assert.Contains("no such folder", output);

        File.WriteAllBytes(Path.Combine(folder, "train-images-idx3-ubyte"), [0, 0, 8, 3, 0, 0, 0, 9, 0, 0, 0, 28, 0, 0, 0, 28, 1, 2, 3]);
        File.WriteAllBytes(Path.Combine(folder, "train-labels-idx1-ubyte"), [0, 0, 8, 1, 0, 0, 0, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        (code, output) = CliRunner.Run(null, "train", "--data", folder);
        Assert.Equal(2, code);
        Assert.Contains("train-images-idx3-ubyte: truncated", output);

        (code, output) = CliRunner.Run(null, "evaluate", "--weights", Path.Combine(folder, "train-labels-idx1-ubyte"));
        Assert.Equal(2, code);
        Assert.Contains("train-labels-idx1-ubyte", output);
    }
}
