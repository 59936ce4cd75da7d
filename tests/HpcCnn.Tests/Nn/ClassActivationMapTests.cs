using HpcCnn.Cpu;
using HpcCnn.Nn;
using HpcCnn.Training;

namespace HpcCnn.Tests.Nn;

/// <summary>Class activation maps: against a direct computation in double, and where they point after training.</summary>
public class ClassActivationMapTests
{
    [SkippableTheory]
    [InlineData("cpu")]
    [InlineData("opencl")]
    public void Map_equals_a_direct_computation_in_double(string backendName)
    {
        Backend backend = backendName == "cpu" ? TestBackends.Cpu.Value : TestBackends.OpenCl();
        var model = new Sequential(new TensorShape(2, 7, 6),
            new Conv2d(3, 3, stride: 2, padding: 1), new ReLU(), new GlobalAvgPool(), new Flatten(), new Dense(4));
        using var network = model.Build(backend, seed: 5);
        var random = new Random(3);
        var image = Enumerable.Range(0, 2 * 7 * 6).Select(_ => (float)random.NextDouble()).ToArray();
        var cam = ClassActivationMap.Compute(network, image, @class: 2);

        // Features: relu(b + conv) on a 4×3 grid (stride 2, pad 1), in double from the weights.
        var w = network["conv1.weight"].Download();
        var b = network["conv1.bias"].Download();
        var fc = network["fc1.weight"].Download();
        var coarse = new double[4 * 3];
        for (int k = 0; k < 3; k++)
            for (int oy = 0; oy < 4; oy++)
                for (int ox = 0; ox < 3; ox++)
                {
                    double sum = b[k];
                    for (int c = 0; c < 2; c++)
                        for (int r = 0; r < 3; r++)
                            for (int s = 0; s < 3; s++)
                            {
                                int iy = oy * 2 - 1 + r, ix = ox * 2 - 1 + s;
                                if (iy >= 0 && iy < 7 && ix >= 0 && ix < 6) sum += (double)w[((k * 2 + c) * 3 + r) * 3 + s] * image[(c * 7 + iy) * 6 + ix];
                            }
                    coarse[oy * 3 + ox] += fc[2 * 3 + k] * Math.Max(sum, 0);
                }
        // PyTorch's bilinear (align_corners=False) from 4×3 to 7×6, then min-max scaling.
        var expected = new double[7 * 6];
        for (int y = 0; y < 7; y++)
            for (int x = 0; x < 6; x++)
            {
                double sy = Math.Max(0, (y + 0.5) * 4 / 7 - 0.5), sx = Math.Max(0, (x + 0.5) * 3 / 6 - 0.5);
                int y0 = (int)sy, x0 = (int)sx, y1 = Math.Min(y0 + 1, 3), x1 = Math.Min(x0 + 1, 2);
                double fy = sy - y0, fx = sx - x0;
                expected[y * 6 + x] = (coarse[y0 * 3 + x0] * (1 - fx) + coarse[y0 * 3 + x1] * fx) * (1 - fy)
                                      + (coarse[y1 * 3 + x0] * (1 - fx) + coarse[y1 * 3 + x1] * fx) * fy;
            }
        double min = expected.Min(), max = expected.Max();
        Assert.Equal(2, cam.Class);
        Assert.Equal((7, 6), (cam.Height, cam.Width));
        for (int i = 0; i < expected.Length; i++) Assert.Equal((expected[i] - min) / (max - min), cam.Map[i], 1e-4);
    }

    /// <summary>
    /// Class 1 images hold a bright square in one corner, class 0 images a bright bar of as many
    /// pixels somewhere; after training, the class-1 map of a square image peaks in the corner
    /// that holds the square (a test that fails if the map looks anywhere else).
    /// </summary>
    [Fact]
    public void Map_peaks_where_the_evidence_is()
    {
        var (train, trainLabels, _) = Shapes(800, 1);
        var (test, testLabels, corners) = Shapes(200, 2);
        var model = new Sequential(new TensorShape(1, 16, 16),
            new Conv2d(8, 3, padding: 1), new ReLU(), new Conv2d(16, 3, padding: 1), new ReLU(), new GlobalAvgPool(), new Flatten(), new Dense(2));
        using var cpu = new CpuBackend();
        using var network = model.Build(cpu, seed: 1);
        using var adam = new AdamOptimizer(new Adam { LearningRate = 0.01f });
        for (int epoch = 0; epoch < 4; epoch++)
            for (int start = 0; start < 800; start += 32)
                network.TrainStep(train.AsSpan(start * 256, 32 * 256), trainLabels.AsSpan(start, 32), adam);
        int squares = 0, right = 0;
        for (int i = 0; i < 200; i++)
        {
            if (testLabels[i] != 1) continue;
            squares++;
            var cam = ClassActivationMap.Compute(network, test.AsSpan(i * 256, 256), 1);
            int peak = Evaluation.ArgMax(cam.Map);
            if (Corner(peak / 16, peak % 16) == corners[i]) right++;
        }
        Assert.True(right >= 0.9 * squares, $"the map peaked in the square's corner for {right} of {squares} images");
    }

    [Fact]
    public void Models_without_the_cam_form_are_refused_clearly()
    {
        var e = Assert.Throws<ArgumentException>(() => ClassActivationMap.Layers(Models.LeNet5()));
        Assert.Contains("GlobalAvgPool", e.Message);
        Assert.Equal((6, 9), ClassActivationMap.Layers(Models.Cam()));
    }

    private static int Corner(int y, int x) => (y < 8 ? 0 : 2) + (x < 8 ? 0 : 1);

    private static (float[] Images, int[] Labels, int[] Corners) Shapes(int count, int seed)
    {
        var random = new Random(seed);
        var images = new float[count * 256];
        var labels = new int[count];
        var corners = new int[count];
        for (int i = 0; i < count; i++)
        {
            var image = images.AsSpan(i * 256, 256);
            for (int p = 0; p < 256; p++) image[p] = (float)(random.NextDouble() * 0.3);
            labels[i] = random.Next(2);
            if (labels[i] == 1)
            {
                int corner = corners[i] = random.Next(4);
                int y0 = (corner / 2) * 10 + random.Next(3), x0 = (corner % 2) * 10 + random.Next(3);
                for (int y = y0; y < y0 + 4; y++)
                    for (int x = x0; x < x0 + 4; x++) image[y * 16 + x] = 0.9f + (float)(random.NextDouble() * 0.1);
            }
            else
            {
                int y = random.Next(16), x0 = random.Next(16 - 16 + 1);
                for (int x = x0; x < x0 + 16; x++) image[y * 16 + x] = 0.9f + (float)(random.NextDouble() * 0.1);
            }
        }
        return (images, labels, corners);
    }
}
