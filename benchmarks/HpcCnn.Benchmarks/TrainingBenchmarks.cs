using BenchmarkDotNet.Attributes;
using HpcCnn.Cpu;
using HpcCnn.Problems;
using HpcCnn.Verification;

namespace HpcCnn.Benchmarks;

/// <summary>
/// Every problem of training_suite.txt (convolution, pooling, dense, softmax and activations in
/// their training directions) on the Cpu backend, prepared through the operation registry as
/// <c>hpccnn bench</c> does. ONNX Runtime has no backward passes to compare with; the
/// same-machine training baseline is TorchSharp (the torchsharp-anchor tool).
/// </summary>
[Config(typeof(SuiteConfig))]
public class TrainingBenchmarks
{
    private PreparedRun? prepared;

    public static IEnumerable<string> Problems() => Suites.Training.Select(p => p.DisplayName);

    [ParamsSource(nameof(Problems))]
    public string Problem { get; set; } = "";

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var problem = Suites.Find(Problem);
        prepared = problem.Operation.Prepare(new CpuBackend(new CpuBackendOptions { Threads = Threads }), problem, seed: 1);
    }

    [Benchmark(Description = "HpcCnn")]
    public void Run() => prepared!.Run();

    [GlobalCleanup]
    public void Cleanup() => prepared?.Dispose();
}

/// <summary>
/// What a training step pays to give a plan new weights: set_weights (copy and repack) against
/// one forward run of the same plan (the baseline), on the suite's lenet_c2 and batch32_3x3.
/// </summary>
[Config(typeof(SuiteConfig))]
public class SetWeightsBenchmarks
{
    private ConvPlan? plan;
    private float[] x = [], y = [], weights = [], bias = [];

    [Params("lenet_c2", "batch32_3x3")]
    public string Problem { get; set; } = "";

    [Params(1)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var p = (ConvProblem)Suites.Find(Problem);
        var random = new Random(1);
        (x, weights, bias) = (Fill.Values(p.InputLength, FillKind.Real, random), Fill.Values(p.WeightsLength, FillKind.Real, random),
            Fill.Values(p.BiasLength, FillKind.Real, random));
        y = new float[p.OutputLength];
        plan = new CpuBackend(new CpuBackendOptions { Threads = Threads }).CreateConvPlan(p, weights, bias);
    }

    [Benchmark(Baseline = true, Description = "forward")]
    public void Forward() => plan!.Forward(x, y);

    [Benchmark(Description = "set_weights"), NotTheProblem]
    public void SetWeights() => plan!.SetWeights(weights, bias);

    [GlobalCleanup]
    public void Cleanup() => plan?.Dispose();
}
