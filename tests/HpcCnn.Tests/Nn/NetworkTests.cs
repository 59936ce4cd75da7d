using HpcCnn.Cpu;
using HpcCnn.Nn;
using HpcCnn.Training;

namespace HpcCnn.Tests.Nn;

/// <summary>The network layer: gradients of whole models, reproducibility, learning, freezing, saving and bad input.</summary>
public class NetworkTests
{
    private static float[] Images(int count, TensorShape shape, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, checked((int)(count * shape.Size))).Select(_ => (float)random.NextDouble())];
    }

    private static int[] Labels(int count, int classes, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ => random.Next(classes))];
    }

    /// <summary>A smooth model (tanh, sigmoid, average pooling), so central differences are a fair oracle.</summary>
    private static Sequential SmoothModel() => new(new TensorShape(2, 8, 8),
        new Conv2d(3, 3, padding: 1), new Tanh(), new AvgPool2d(2),
        new Conv2d(4, 3, stride: 2, padding: 1, groups: 1), new Sigmoid(),
        new Flatten(), new Dense(6), new Tanh(), new Dense(5));

    /// <summary>
    /// Every parameter's gradient, from the whole chain (fused and standalone activations, pooling,
    /// dense on a C×H×W input, softmax cross-entropy), against central differences of the loss in
    /// the managed oracle.
    /// </summary>
    [Fact]
    public void Gradients_of_a_whole_model_match_central_differences()
    {
        var model = SmoothModel();
        using var network = model.Build(Backend.Reference, seed: 3);
        var images = Images(3, model.InputShape, 1);
        var labels = Labels(3, 5, 2);
        network.ComputeGradients(images, labels);
        var probabilities = new float[3 * 5];
        foreach (var parameter in network.Parameters)
        {
            var values = parameter.Download();
            var gradient = parameter.DownloadGradient();
            for (int i = 0; i < values.Length; i += Math.Max(1, values.Length / 7))
            {
                const float h = 1e-2f;
                var shifted = (float[])values.Clone();
                shifted[i] = values[i] + h;
                parameter.Upload(shifted);
                double plus = network.Predict(images, probabilities, labels);
                shifted[i] = values[i] - h;
                parameter.Upload(shifted);
                double minus = network.Predict(images, probabilities, labels);
                parameter.Upload(values);
                double numeric = (plus - minus) / (2 * h);
                Assert.True(Math.Abs(numeric - gradient[i]) <= 2e-3 + 0.03 * Math.Abs(numeric),
                    $"{parameter.Name}[{i}]: backward {gradient[i]}, central difference {numeric}");
            }
        }
    }

    /// <summary>ReLU, max pooling, dropout and DropConnect (kinks rule out differences): the native backend against the oracle, step by step.</summary>
    [Fact]
    public void Training_on_the_native_backend_follows_the_oracle()
    {
        var model = new Sequential(new TensorShape(1, 12, 12),
            new Conv2d(4, 3, padding: 1), new ReLU(), new MaxPool2d(2),
            new Conv2d(6, 3), new LeakyReLU(0.1f), new Dropout(0.3f),
            new Dense(16, dropConnect: 0.2f), new ReLU(), new Dense(4));
        using var cpu = new CpuBackend(new CpuBackendOptions { Threads = 2 });
        using var native = model.Build(cpu, seed: 5);
        using var oracle = model.Build(Backend.Reference, seed: 5);
        using var nativeSgd = new SgdOptimizer(new Sgd { LearningRate = 0.05f, Momentum = 0.9f });
        using var oracleSgd = new SgdOptimizer(new Sgd { LearningRate = 0.05f, Momentum = 0.9f });
        for (int step = 0; step < 3; step++)
        {
            var images = Images(8, model.InputShape, 10 + step);
            var labels = Labels(8, 4, 20 + step);
            float a = native.TrainStep(images, labels, nativeSgd), b = oracle.TrainStep(images, labels, oracleSgd);
            Assert.Equal(b, a, 1e-4f);
        }
        foreach (var p in native.Parameters)
        {
            var x = p.Download();
            var y = oracle[p.Name].Download();
            for (int i = 0; i < x.Length; i++) Assert.True(Math.Abs(x[i] - y[i]) <= 1e-4f + 1e-4f * Math.Abs(y[i]), $"{p.Name}[{i}]: {x[i]} vs {y[i]}");
        }
    }

    [SkippableFact]
    public void Training_on_opencl_follows_the_native_backend()
    {
        var openCl = TestBackends.OpenCl();
        var model = Models.LeNet5(10);
        using var cpu = new CpuBackend(new CpuBackendOptions { Threads = 2 });
        using var native = model.Build(cpu, seed: 9);
        using var device = model.Build(openCl, seed: 9);
        using var nativeAdam = new AdamOptimizer(new Adam { LearningRate = 0.002f });
        using var deviceAdam = new AdamOptimizer(new Adam { LearningRate = 0.002f });
        var data = ImageDataset.FashionMnistSample(train: true);
        var order = Enumerable.Range(0, 96).ToArray();
        var images = new float[32 * 784];
        var labels = new int[32];
        for (int step = 0; step < 3; step++)
        {
            data.Gather(order.AsSpan(step * 32, 32), images, labels);
            Assert.Equal(native.TrainStep(images, labels, nativeAdam), device.TrainStep(images, labels, deviceAdam), 1e-4f);
        }
        foreach (var p in native.Parameters)
        {
            var x = p.Download();
            var y = device[p.Name].Download();
            for (int i = 0; i < x.Length; i++) Assert.True(Math.Abs(x[i] - y[i]) <= 1e-4f + 1e-3f * Math.Abs(x[i]), $"{p.Name}[{i}]: {x[i]} vs {y[i]}");
        }
    }

    /// <summary>The reproducibility promise: every weight bit for bit at 1 and 2 threads, dropout included.</summary>
    [Fact]
    public void Training_is_bitwise_reproducible_at_any_thread_count()
    {
        var data = ImageDataset.FashionMnistSample(train: true).Take(160);
        var weights = new List<float[][]>();
        foreach (int threads in new[] { 1, 2, 3 })
        {
            using var cpu = new CpuBackend(new CpuBackendOptions { Threads = threads });
            using var network = Models.Strong(10).Build(cpu, seed: 7);
            using var sgd = new SgdOptimizer(new Sgd { LearningRate = 0.02f, Momentum = 0.9f, Nesterov = true, WeightDecay = 1e-4f });
            var trainer = new Trainer(network, sgd, new TrainerOptions { Epochs = 1, BatchSize = 48, Seed = 4 });
            trainer.RunEpoch(0, data, data.Take(10));
            weights.Add([.. network.Parameters.Select(p => p.Download())]);
        }
        for (int t = 1; t < weights.Count; t++)
            for (int p = 0; p < weights[0].Length; p++)
                Assert.True(weights[0][p].AsSpan().SequenceEqual(weights[t][p]), $"parameter {p} differs between 1 and {t + 1} threads");
    }

    /// <summary>LeNet-5 learns Fashion-MNIST: two epochs of the embedded sample reach well above chance (10%).</summary>
    [Fact]
    public void LeNet5_learns_the_embedded_sample()
    {
        var train = ImageDataset.FashionMnistSample(train: true);
        var test = ImageDataset.FashionMnistSample(train: false);
        using var cpu = new CpuBackend();
        using var network = Models.LeNet5().Build(cpu, seed: 1);
        using var sgd = new SgdOptimizer(new Sgd { LearningRate = 0.05f, Momentum = 0.9f });
        var results = new Trainer(network, sgd, new TrainerOptions { Epochs = 2 }).Fit(train, test);
        Assert.True(results[1].TrainLoss < results[0].TrainLoss, $"train loss {results[0].TrainLoss} then {results[1].TrainLoss}");
        Assert.True(results[1].TestAccuracy > 0.7, $"test accuracy {results[1].TestAccuracy:P1} after two epochs");
        var evaluation = results[1].Test;
        Assert.Equal(test.Count, evaluation.Count);
        for (int c = 0; c < 10; c++) Assert.Equal(test.Labels.Count(c), Enumerable.Range(0, 10).Sum(p => evaluation[c, p]));
    }

    [Fact]
    public void Frozen_layers_stay_bit_identical_while_the_rest_trains()
    {
        using var cpu = new CpuBackend();
        using var network = Models.LeNet5().Build(cpu, seed: 2);
        foreach (var p in network.Parameters.Where(p => p.Name.StartsWith("conv", StringComparison.Ordinal))) p.Frozen = true;
        var before = network.Parameters.ToDictionary(p => p.Name, p => p.Download());
        using var sgd = new SgdOptimizer(new Sgd { LearningRate = 0.1f });
        var data = ImageDataset.FashionMnistSample(train: true).Take(64);
        var images = new float[64 * 784];
        var labels = new int[64];
        data.Gather([.. Enumerable.Range(0, 64)], images, labels);
        network.TrainStep(images, labels, sgd);
        foreach (var p in network.Parameters)
        {
            bool same = before[p.Name].AsSpan().SequenceEqual(p.Download());
            Assert.True(p.Frozen == same, $"{p.Name}: frozen {p.Frozen}, unchanged {same}");
        }
    }

    [Fact]
    public void Weights_saved_and_loaded_give_the_same_predictions()
    {
        using var cpu = new CpuBackend();
        using var a = Models.LeNet5().Build(cpu, seed: 11);
        using var b = Models.LeNet5().Build(cpu, seed: 12);
        var path = Path.Combine(Path.GetTempPath(), $"hpccnn-{Guid.NewGuid():N}.safetensors");
        try
        {
            a.SaveWeights(path, new Dictionary<string, string> { ["hpccnn.model"] = "lenet5" });
            var (report, metadata) = b.LoadWeights(path);
            Assert.Equal(10, report.Loaded.Count);
            Assert.Equal("lenet5", metadata["hpccnn.model"]);
            var images = Images(4, Models.MnistShape, 3);
            var (pa, pb) = (new float[40], new float[40]);
            a.Predict(images, pa);
            b.Predict(images, pb);
            Assert.Equal(pa, pb);
            var (tensors, _) = SafeTensors.Load(path);
            Assert.Equal([6, 1, 5, 5], tensors.Single(t => t.Name == "conv1.weight").Shape); // KCRS, as PyTorch
            Assert.Equal([120, 400], tensors.Single(t => t.Name == "fc1.weight").Shape);      // out × in

            using var other = Models.LeNet5(classes: 7).Build(cpu);
            var e = Assert.Throws<InvalidDataException>(() => other.LoadWeights(path));
            Assert.Contains("fc3.weight is [10, 84] in the file, [7, 84] in the network", e.Message);
            using var strong = Models.Strong().Build(cpu);
            e = Assert.Throws<InvalidDataException>(() => strong.LoadWeights(path));
            Assert.Contains("missing conv3.weight", e.Message);
            Assert.Contains("unexpected", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Evaluation_mode_has_no_dropout_and_training_mode_does()
    {
        using var cpu = new CpuBackend();
        var model = new Sequential(new TensorShape(1, 6, 6), new Flatten(), new Dense(20), new Dropout(0.5f), new Dense(3));
        using var network = model.Build(cpu, seed: 1);
        var images = Images(2, model.InputShape, 1);
        var (p1, p2) = (new float[6], new float[6]);
        network.Predict(images, p1);
        network.Predict(images, p2);
        Assert.Equal(p1, p2);
        float l1 = network.ComputeGradients(images, [0, 1]), l2 = network.ComputeGradients(images, [0, 1]);
        Assert.NotEqual(l1, l2); // a new mask each step
        Assert.Equal(2, network.Steps);
    }

    [Fact]
    public void A_last_partial_batch_and_other_batch_sizes_work()
    {
        using var cpu = new CpuBackend();
        using var network = Models.LeNet5().Build(cpu, seed: 1);
        using var sgd = new SgdOptimizer(new Sgd());
        var data = ImageDataset.FashionMnistSample(train: false).Take(70);
        var result = new Trainer(network, sgd, new TrainerOptions { BatchSize = 32, EvaluationBatchSize = 33 }).RunEpoch(0, data, data);
        Assert.Equal(70, result.Test.Count);
        Assert.True(double.IsFinite(result.TrainLoss));
    }

    [Fact]
    public void Bad_models_and_inputs_are_clear_errors()
    {
        var e = Assert.Throws<ArgumentException>(() => new Sequential(new TensorShape(1, 4, 4), new Conv2d(2, 5)));
        Assert.Contains("layer conv1 (Conv2d) cannot take a 1x4x4 input", e.Message);
        Assert.Contains("two layers are called 'x'",
            Assert.Throws<ArgumentException>(() => new Sequential(new TensorShape(1, 4, 4), new ReLU("x"), new Tanh("x"))).Message);
        Assert.Throws<ArgumentException>(() => new Sequential(new TensorShape(1, 4, 4), new Dropout(1f)));
        Assert.Throws<ArgumentException>(() => new Sequential(new TensorShape(3, 4, 4), new Conv2d(4, 1, groups: 2)));

        using var cpu = new CpuBackend();
        using var network = new Sequential(new TensorShape(1, 4, 4), new Dense(3)).Build(cpu);
        Assert.Contains("2 images but 1 labels", Assert.Throws<ArgumentException>(() => network.ComputeGradients(new float[32], [0])).Message);
        Assert.Contains("not a class", Assert.Throws<ArgumentOutOfRangeException>(() => network.ComputeGradients(new float[16], [3])).Message);
        Assert.Throws<ArgumentException>(() => network.ComputeGradients(new float[17], [0]));
        Assert.Contains("no parameter 'fc9.weight'", Assert.Throws<KeyNotFoundException>(() => network["fc9.weight"]).Message);
        Assert.Throws<ArgumentException>(() => network["fc1.weight"].Upload(new float[5]));
        var data = ImageDataset.FashionMnistSample(train: false);
        Assert.Contains("the model takes 1x4x4", Assert.Throws<ArgumentException>(() => Evaluation.Run(network, data)).Message);
    }

    [Fact]
    public void Shuffles_are_seeded_permutations()
    {
        var a = Trainer.Shuffle(1000, 5, 0);
        Assert.Equal(Enumerable.Range(0, 1000), a.Order());
        Assert.Equal(a, Trainer.Shuffle(1000, 5, 0));
        Assert.NotEqual(a, Trainer.Shuffle(1000, 5, 1));
        Assert.NotEqual(a, Trainer.Shuffle(1000, 6, 0));
    }

    [Fact]
    public void Schedules_follow_pytorch()
    {
        var step = LearningRateSchedule.Parse("step:2:0.5", 10);
        Assert.Equal([1f, 1f, 0.5f, 0.5f, 0.25f], Enumerable.Range(0, 5).Select(e => step.Rate(1f, e)));
        var cosine = LearningRateSchedule.Parse("cosine", 4);
        Assert.Equal(1f, cosine.Rate(1f, 0));
        Assert.Equal(0.5f, cosine.Rate(1f, 2), 6);
        Assert.Equal(0f, cosine.Rate(1f, 4), 6);
        Assert.Throws<FormatException>(() => LearningRateSchedule.Parse("step:x", 3));
    }

    [Fact]
    public void Initialisation_is_seeded_and_scaled_by_fan_in()
    {
        using var cpu = new CpuBackend();
        using var a = Models.LeNet5().Build(cpu, seed: 1);
        using var b = Models.LeNet5().Build(Backend.Reference, seed: 1);
        using var c = Models.LeNet5().Build(cpu, seed: 2);
        Assert.Equal(a["fc1.weight"].Download(), b["fc1.weight"].Download());
        Assert.NotEqual(a["fc1.weight"].Download(), c["fc1.weight"].Download());
        var w = a["fc1.weight"].Download(); // followed by ReLU: He, bound √(6/400)
        Assert.InRange(w.Max(), 0.9 * Math.Sqrt(6.0 / 400), Math.Sqrt(6.0 / 400));
        Assert.All(a["fc1.bias"].Download(), v => Assert.Equal(0f, v));
    }

    /// <summary>The README's C# example, as written there (one epoch on part of the sample).</summary>
    [Fact]
    public void Readme_network_example_runs()
    {
        var model = new Sequential(new TensorShape(1, 28, 28),
            new Conv2d(6, 5, padding: 2), new ReLU(), new MaxPool2d(2),
            new Conv2d(16, 5), new ReLU(), new MaxPool2d(2),
            new Flatten(), new Dense(120), new ReLU(), new Dense(84), new ReLU(), new Dense(10));
        using var cpu = new CpuBackend();
        using var network = model.Build(cpu, seed: 1);
        using var sgd = new SgdOptimizer(new Sgd { LearningRate = 0.05f, Momentum = 0.9f });
        var train = ImageDataset.FashionMnistSample(train: true).Take(500);
        var test = ImageDataset.FashionMnistSample(train: false).Take(200);
        var trainer = new Trainer(network, sgd, new TrainerOptions { Epochs = 1, BatchSize = 64, Schedule = LearningRateSchedule.Cosine(10) });
        var epochs = trainer.Fit(train, test);
        Evaluation result = Evaluation.Run(network, test);
        Assert.Equal(epochs[0].TestAccuracy, result.Accuracy);
        var images = new float[64 * 784];
        var labels = new int[64];
        train.Gather([.. Enumerable.Range(0, 64)], images, labels);
        float loss = network.TrainStep(images, labels, sgd);
        Assert.True(float.IsFinite(loss));
        Assert.Equal(network["conv1.weight"].Length, network["conv1.weight"].DownloadGradient().Length);
    }
}
