using BenchmarkDotNet.Attributes;
using HpcCnn.Cpu;
using HpcCnn.Problems;
using HpcCnn.Verification;

namespace HpcCnn.Benchmarks;

/// <summary>
/// One problem timed on HpcCnn's Cpu backend and on ONNX Runtime (the baseline) with the same
/// data. Subclasses say what to prepare; setup refuses to time two different computations.
/// </summary>
[Config(typeof(SuiteConfig))]
public abstract class BaselineComparison
{
    private Prepared? prepared;

    /// <summary>A plan and a session over the same input, with their own outputs.</summary>
    private protected sealed record Prepared(Problem Problem, IDisposable Plan, Action Run, OnnxRuntimeBaseline Onnx, float[] Ours, float[] Theirs);

    private protected abstract Prepared Prepare();

    /// <summary>
    /// Both sides run once to compare outputs; then the side not being measured is released, so
    /// its threads (ONNX Runtime's intra-op workers spin between runs) cannot take a core from
    /// the side that is.
    /// </summary>
    [GlobalSetup(Target = nameof(HpcCnn))]
    public void SetupHpcCnn()
    {
        Setup();
        prepared!.Onnx.Dispose();
    }

    [GlobalSetup(Target = nameof(OnnxRuntime))]
    public void SetupOnnxRuntime()
    {
        Setup();
        prepared!.Plan.Dispose();
    }

    private void Setup()
    {
        prepared = Prepare();
        BaselineCheck.SameOutputs(prepared.Problem, prepared.Run, prepared.Onnx.Run, prepared.Ours, prepared.Theirs);
    }

    [Benchmark(Baseline = true, Description = "ONNX Runtime")]
    public void OnnxRuntime() => prepared!.Onnx.Run();

    [Benchmark(Description = "HpcCnn")]
    public void HpcCnn() => prepared!.Run();

    [GlobalCleanup]
    public void Cleanup()
    {
        prepared?.Plan.Dispose();
        prepared?.Onnx.Dispose();
    }

    private protected static Prepared Conv(ConvProblem p, int threads)
    {
        var random = new Random(1);
        var x = Fill.Values(p.InputLength, FillKind.Real, random);
        var w = Fill.Values(p.WeightsLength, FillKind.Real, random);
        var b = Fill.Values(p.BiasLength, FillKind.Real, random);
        float[] y = new float[p.OutputLength], yOnnx = new float[p.OutputLength];
        var plan = new CpuBackend(new CpuBackendOptions { Threads = threads }).CreateConvPlan(p, w, b);
        var onnx = new OnnxRuntimeBaseline(OnnxModel.Conv(p, w, b), threads,
            x, OnnxRuntimeBaseline.Shape(p.Batch, p.InChannels, p.InHeight, p.InWidth),
            yOnnx, OnnxRuntimeBaseline.Shape(p.Batch, p.OutChannels, p.OutHeight, p.OutWidth));
        return new Prepared(p, plan, () => plan.Run(x, y), onnx, y, yOnnx);
    }

    private protected static Prepared Pool(PoolProblem p, int threads)
    {
        var x = Fill.Values(p.InputLength, FillKind.Real, new Random(1));
        float[] y = new float[p.OutputLength], yOnnx = new float[p.OutputLength];
        var plan = new CpuBackend(new CpuBackendOptions { Threads = threads }).CreatePoolPlan(p);
        var onnx = new OnnxRuntimeBaseline(OnnxModel.Pool(p), threads,
            x, OnnxRuntimeBaseline.Shape(p.Batch, p.Channels, p.InHeight, p.InWidth),
            yOnnx, OnnxRuntimeBaseline.Shape(p.Batch, p.Channels, p.OutHeight, p.OutWidth));
        return new Prepared(p, plan, () => plan.Run(x, y), onnx, y, yOnnx);
    }
}

/// <summary>Forward convolution over conv_suite.txt.</summary>
public class ConvBenchmarks : BaselineComparison
{
    public static IEnumerable<string> Problems() => Suites.Conv.Select(p => p.Name!);

    [ParamsSource(nameof(Problems))]
    public string Problem { get; set; } = "";

    [Params(1, 2)]
    public int Threads { get; set; }

    private protected override Prepared Prepare() => Conv((ConvProblem)Suites.Find(Problem), Threads);
}

/// <summary>Forward pooling over pool_suite.txt against ONNX Runtime's MaxPool / AveragePool.</summary>
public class PoolBenchmarks : BaselineComparison
{
    public static IEnumerable<string> Problems() => Suites.Pool.Select(p => p.Name!);

    [ParamsSource(nameof(Problems))]
    public string Problem { get; set; } = "";

    [Params(1, 2)]
    public int Threads { get; set; }

    private protected override Prepared Prepare() => Pool((PoolProblem)Suites.Find(Problem), Threads);
}

/// <summary>
/// The layers of networks_suite.txt (LeNet-5 to MobileNet v2, with TensorFlow's asymmetric "same"
/// padding where those networks use it), each against ONNX Runtime's Conv / MaxPool / AveragePool
/// with the same pads: setup also proves both compute the same thing.
/// </summary>
public class NetworkBenchmarks : BaselineComparison
{
    public static IEnumerable<string> Problems() => Suites.Networks.Select(p => p.Name!);

    [ParamsSource(nameof(Problems))]
    public string Problem { get; set; } = "";

    [Params(1, 2)]
    public int Threads { get; set; }

    private protected override Prepared Prepare() => Suites.Find(Problem) switch
    {
        ConvProblem conv => Conv(conv, Threads),
        PoolProblem pool => Pool(pool, Threads),
        var other => throw new NotSupportedException(other.ToString()),
    };
}

/// <summary>Per-call overhead: a 1x1 convolution on an 8x8 image with 8 channels (8 KFLOP of work).</summary>
public class CallOverheadBenchmarks : BaselineComparison
{
    [Params("tiny_1x1")]
    public string Problem { get; set; } = "";

    private protected override Prepared Prepare() => Conv(Suites.Tiny, threads: 1);
}

/// <summary>Refuses to benchmark two things that do not compute the same result.</summary>
internal static class BaselineCheck
{
    public static void SameOutputs(Problem problem, Action ours, Action theirs, float[] y, float[] yTheirs)
    {
        ours();
        theirs();
        double scale = y.Max(v => Math.Abs(v)), worst = 0;
        for (int i = 0; i < y.Length; i++) worst = Math.Max(worst, Math.Abs(y[i] - yTheirs[i]));
        if (!(worst <= 1e-4 * Math.Max(scale, 1)))
            throw new InvalidOperationException($"{problem}: the two sides differ by {worst} (output scale {scale})");
    }
}
