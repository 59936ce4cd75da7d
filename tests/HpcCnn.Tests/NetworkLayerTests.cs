namespace HpcCnn.Tests;

/// <summary>
/// The layers of real networks (benchmarks/problems/networks_suite.txt: LeNet-5, AlexNet, VGG-16,
/// GoogLeNet, ResNet-50, MobileNet v1 and v2, with TensorFlow's asymmetric "same" padding where those
/// networks use it) on every backend against one oracle run per layer and fill.
/// </summary>
public class NetworkLayerTests
{
    public static IEnumerable<object[]> Layers() => TestBackends.Suite("networks_suite.txt").Select(p => new object[] { p.ToString() });

    [SkippableTheory]
    [MemberData(nameof(Layers))]
    public void Layer_matches_oracle_on_every_backend(string descriptor)
    {
        var problem = ProblemSuite.Parse([descriptor]).Single();
        var (backends, openClMissing) = TestBackends.Everything();
        switch (problem)
        {
            case ConvProblem conv:
                ConvCrossBackendTests.Check(conv, 13, backends);
                break;
            case PoolProblem pool:
                PoolCrossBackendTests.Check(pool, 13, backends);
                break;
        }
        Skip.If(openClMissing is not null, $"passed on the CPU backends; OpenCL not checked: {openClMissing}");
    }

    [Fact]
    public void Suite_holds_every_network_and_its_same_padded_layers()
    {
        var layers = TestBackends.Suite("networks_suite.txt");
        foreach (var network in new[] { "lenet5", "alexnet", "vgg16", "googlenet", "resnet50", "mobilenet_v1", "mobilenet_v2" })
            Assert.Contains(layers, p => p.Name!.StartsWith(network + "_", StringComparison.Ordinal));
        // TensorFlow "same" on stride 2: padding only at the bottom and right (or one more there).
        var same = layers.OfType<ConvProblem>().Where(p => p.Name!.EndsWith("_same", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(same);
        Assert.All(same, p => Assert.True(p.PadBottom == p.PadTop + 1 && p.PadRight == p.PadLeft + 1, p.ToString()));
        Assert.Equal(layers.Count, layers.Select(p => p.Name).Distinct().Count());
    }
}
