using HpcCnn.Cpu;
using HpcCnn.Nn;
using HpcCnn.Training;
using SkiaSharp;

namespace HpcCnn.Tests.Nn;

/// <summary>The inference side: architectures in the weights file, Model.Load and Predict, and `hpccnn predict`.</summary>
public sealed class ModelTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("hpccnn-model-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private static Sequential EveryLayer() => new(new TensorShape(2, 12, 10),
        new Conv2d(4, 3, padding: 1, name: "first") { KernelWidth = 2 }, new LeakyReLU(0.2f), new AvgPool2d(2, padding: 1, countIncludePad: false),
        new Conv2d(4, 3, dilation: 2, groups: 2, bias: false), new Sigmoid(), new MaxPool2d(2, 1), new Dropout(0.1f),
        new Tanh(), new GlobalAvgPool(), new Flatten(), new Dense(5, dropConnect: 0.25f), new ReLU(), new Dense(3, bias: false));

    [Fact]
    public void Architectures_round_trip_through_json()
    {
        foreach (var model in new[] { Models.LeNet5(), Models.Strong(7), EveryLayer() })
        {
            string json = Architecture.ToJson(model);
            var back = Architecture.FromJson(json);
            Assert.Equal(json, Architecture.ToJson(back));
            Assert.Equal(model.Summary(), back.Summary());
        }
    }

    [Theory]
    [InlineData("{", "not valid JSON")]
    [InlineData("""{"input":"1x28x28"}""", "no \"layers\"")]
    [InlineData("""{"input":"1x28","layers":[]}""", "CxHxW")]
    [InlineData("""{"input":"1x28x28","layers":[{"type":"Conv3d","name":"c"}]}""", "layer 'c' (Conv3d): unknown layer type")]
    [InlineData("""{"input":"1x28x28","layers":[{"type":"Dense","name":"fc1","bias":true,"drop_connect":0}]}""", "layer 'fc1' (Dense): no \"out\"")]
    [InlineData("""{"input":"1x28x28","layers":[{"type":"Dense","name":"fc1","out":"ten","bias":true,"drop_connect":0}]}""", "\"out\" is not an integer")]
    public void Bad_architectures_are_format_errors_naming_the_fault(string json, string fault) =>
        Assert.Contains(fault, Assert.Throws<FormatException>(() => Architecture.FromJson(json)).Message);

    private (string Path, float[] Images, float[] Expected) TrainedModel(Backend backend)
    {
        using var network = Models.LeNet5().Build(backend, seed: 3);
        using var sgd = new SgdOptimizer(new Sgd { LearningRate = 0.05f, Momentum = 0.9f });
        var data = ImageDataset.FashionMnistSample(train: true).Take(1280);
        new Trainer(network, sgd, new TrainerOptions { Epochs = 2 }).Fit(data, data.Take(64));
        var path = Path.Combine(folder, "model.safetensors");
        Model.Save(network, data.ClassNames, path);
        var test = ImageDataset.FashionMnistSample(train: false).Take(40);
        var images = new float[40 * 784];
        test.Gather([.. Enumerable.Range(0, 40)], images, new int[40]);
        var expected = new float[400];
        network.Predict(images, expected);
        return (path, images, expected);
    }

    [Fact]
    public void A_saved_model_loads_from_one_file_and_predicts_as_trained()
    {
        using var cpu = new CpuBackend();
        var (path, images, expected) = TrainedModel(cpu);
        using var model = Model.Load(path, cpu);
        Assert.Equal("Ankle boot", model.ClassNames[9]);
        Assert.Equal(expected, model.Predict(images));
        using var oracle = Model.Load(path, Backend.Reference);
        var reference = oracle.Predict(images);
        for (int i = 0; i < reference.Length; i++) Assert.Equal(reference[i], expected[i], 1e-4f);
        var top = model.Top(expected.AsSpan(0, 10), 2);
        Assert.Equal(Evaluation.ArgMax(expected.AsSpan(0, 10)), top[0].Class);
        Assert.True(top[0].Probability >= top[1].Probability);

        var bare = Path.Combine(folder, "bare.safetensors");
        model.Network.SaveWeights(bare);
        Assert.Contains("no hpccnn.architecture", Assert.Throws<InvalidDataException>(() => Model.Load(bare, cpu)).Message);
    }

    /// <summary>A model saved from the CPU loads on OpenCL and predicts the same classes (within rounding).</summary>
    [SkippableFact]
    public void A_saved_model_predicts_on_opencl()
    {
        var openCl = TestBackends.OpenCl();
        using var cpu = new CpuBackend();
        var (path, images, expected) = TrainedModel(cpu);
        using var model = Model.Load(path, openCl);
        var probabilities = model.Predict(images);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], probabilities[i], 1e-4f);
    }

    /// <summary>The inference promise: no allocation per call after the first, and 8 threads at once give the serial bits.</summary>
    [Fact]
    public void Predict_allocates_nothing_after_the_first_call_and_is_thread_safe()
    {
        using var cpu = new CpuBackend();
        var (path, images, _) = TrainedModel(cpu);
        using var model = Model.Load(path, cpu);
        var output = new float[400];
        model.Predict(images, output);
        long before = GC.GetAllocatedBytesForCurrentThread();
        model.Predict(images, output);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

        var serial = Enumerable.Range(0, 8).Select(t => model.Predict(images.AsSpan(t * 5 * 784, 5 * 784))).ToArray();
        var parallel = new float[8][];
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, t =>
        {
            for (int repeat = 0; repeat < 20; repeat++) parallel[t] = model.Predict(images.AsSpan(t * 5 * 784, 5 * 784));
        });
        for (int t = 0; t < 8; t++) Assert.Equal(serial[t], parallel[t]);
    }

    /// <summary>`hpccnn predict` on PNG files: a test image enlarged four times, the same dark on white (inverted automatically), and a damaged file.</summary>
    [Fact]
    public void Predict_command_classifies_image_files()
    {
        using var cpu = new CpuBackend();
        var (path, images, expected) = TrainedModel(cpu);
        int confident = Enumerable.Range(0, 40).MaxBy(i => expected.AsSpan(i * 10, 10).ToArray().Max());
        int label = Evaluation.ArgMax(expected.AsSpan(confident * 10, 10));
        string light = Path.Combine(folder, "light.png"), dark = Path.Combine(folder, "dark.png"), broken = Path.Combine(folder, "broken.png");
        WritePng(light, images.AsSpan(confident * 784, 784), invert: false);
        WritePng(dark, images.AsSpan(confident * 784, 784), invert: true);
        File.WriteAllBytes(broken, [0x89, (byte)'P', (byte)'N', (byte)'G', 1, 2, 3]);

        var (code, output) = CliRunner.Run(null, "predict", "--weights", path, light, dark);
        Assert.True(code == 0, output);
        string name = ImageDataset.FashionMnistClasses[label];
        var lines = output.Split('\n');
        Assert.Contains(lines, l => l.Contains("light.png") && l.Contains(name) && !l.Contains("inverted"));
        Assert.Contains(lines, l => l.Contains("dark.png") && l.Contains("(inverted)") && l.Contains(name));

        (code, output) = CliRunner.Run(null, "predict", "--weights", path, broken);
        Assert.Equal(2, code);
        Assert.Contains("broken.png: not an image", output);
    }

    /// <summary>`hpccnn cam` writes one PNG per image and a contact sheet, and refuses models without the CAM form.</summary>
    [Fact]
    public void Cam_command_writes_maps_and_a_sheet()
    {
        using var cpu = new CpuBackend();
        using var network = Models.Cam().Build(cpu, seed: 2);
        using var sgd = new SgdOptimizer(new Sgd { LearningRate = 0.05f, Momentum = 0.9f });
        var data = ImageDataset.FashionMnistSample(train: true).Take(320);
        new Trainer(network, sgd, new TrainerOptions { Epochs = 1 }).Fit(data, data.Take(32));
        var path = Path.Combine(folder, "cam.safetensors");
        Model.Save(network, data.ClassNames, path);
        var output = Path.Combine(folder, "maps");
        var (code, text) = CliRunner.Run(null, "cam", "--weights", path, "--index", "3", "--index", "7", "--class", "Trouser", "--out", output);
        Assert.True(code == 0, text);
        foreach (var file in new[] { "cam-3.png", "cam-7.png", "cam-sheet.png" })
        {
            using var bitmap = SKBitmap.Decode(Path.Combine(output, file));
            Assert.True(bitmap is { Width: > 100, Height: > 100 }, file);
        }
        Assert.Contains("Trouser", text);

        var (lenet, _, _) = TrainedModel(cpu);
        (code, text) = CliRunner.Run(null, "cam", "--weights", lenet, "--out", output);
        Assert.Equal(2, code);
        Assert.Contains("GlobalAvgPool", text);
    }

    private static void WritePng(string path, ReadOnlySpan<float> image, bool invert)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(112, 112, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        for (int y = 0; y < 112; y++)
            for (int x = 0; x < 112; x++)
            {
                float v = image[y / 4 * 28 + x / 4];
                byte b = (byte)Math.Round(255 * (invert ? 1 - v : v));
                bitmap.SetPixel(x, y, new SKColor(b, b, b, 255));
            }
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, data.ToArray());
    }
}
