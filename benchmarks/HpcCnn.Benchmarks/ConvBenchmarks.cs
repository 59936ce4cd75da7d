using BenchmarkDotNet.Attributes;
using HpcCnn.Cpu;
using HpcCnn.Problems;
using HpcCnn.Verification;

namespace HpcCnn.Benchmarks;

/// <summary>Forward convolution over conv_suite.txt: HpcCnn's Cpu backend against ONNX Runtime in the same run.</summary>
[Config(typeof(SuiteConfig))]
public class ConvBenchmarks
{
    private ConvPlan? plan;
    private OnnxRuntimeBaseline? onnx;
    private float[] x = [], y = [], yOnnx = [];

    public static IEnumerable<string> Problems() => Suites.Conv.Select(p => p.Name!);

    [ParamsSource(nameof(Problems))]
    public string Problem { get; set; } = "";

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var p = (ConvProblem)Suites.Find(Problem);
        var random = new Random(1);
        x = Fill.Values(p.InputLength, FillKind.Real, random);
        var w = Fill.Values(p.WeightsLength, FillKind.Real, random);
        var b = Fill.Values(p.BiasLength, FillKind.Real, random);
        y = new float[p.OutputLength];
        yOnnx = new float[p.OutputLength];
        plan = new CpuBackend(new CpuBackendOptions { Threads = Threads }).CreateConvPlan(p, w, b);
        onnx = new OnnxRuntimeBaseline(OnnxModel.Conv(p, w, b), Threads,
            x, OnnxRuntimeBaseline.Shape(p.Batch, p.InChannels, p.InHeight, p.InWidth),
            yOnnx, OnnxRuntimeBaseline.Shape(p.Batch, p.OutChannels, p.OutHeight, p.OutWidth));
        BaselineCheck.SameOutputs(p, () => plan.Run(x, y), onnx.Run, y, yOnnx);
    }

    [Benchmark(Baseline = true, Description = "ONNX Runtime")]
    public void OnnxRuntime() => onnx!.Run();

    [Benchmark(Description = "HpcCnn")]
    public void HpcCnn() => plan!.Run(x, y);

    [GlobalCleanup]
    public void Cleanup()
    {
        plan?.Dispose();
        onnx?.Dispose();
    }
}

/// <summary>Forward pooling over pool_suite.txt against ONNX Runtime's MaxPool / AveragePool.</summary>
[Config(typeof(SuiteConfig))]
public class PoolBenchmarks
{
    private PoolPlan? plan;
    private OnnxRuntimeBaseline? onnx;
    private float[] x = [], y = [], yOnnx = [];

    public static IEnumerable<string> Problems() => Suites.Pool.Select(p => p.Name!);

    [ParamsSource(nameof(Problems))]
    public string Problem { get; set; } = "";

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var p = (PoolProblem)Suites.Find(Problem);
        x = Fill.Values(p.InputLength, FillKind.Real, new Random(1));
        y = new float[p.OutputLength];
        yOnnx = new float[p.OutputLength];
        plan = new CpuBackend(new CpuBackendOptions { Threads = Threads }).CreatePoolPlan(p);
        onnx = new OnnxRuntimeBaseline(OnnxModel.Pool(p), Threads,
            x, OnnxRuntimeBaseline.Shape(p.Batch, p.Channels, p.InHeight, p.InWidth),
            yOnnx, OnnxRuntimeBaseline.Shape(p.Batch, p.Channels, p.OutHeight, p.OutWidth));
        BaselineCheck.SameOutputs(p, () => plan.Run(x, y), onnx.Run, y, yOnnx);
    }

    [Benchmark(Baseline = true, Description = "ONNX Runtime")]
    public void OnnxRuntime() => onnx!.Run();

    [Benchmark(Description = "HpcCnn")]
    public void HpcCnn() => plan!.Run(x, y);

    [GlobalCleanup]
    public void Cleanup()
    {
        plan?.Dispose();
        onnx?.Dispose();
    }
}

/// <summary>Per-call overhead: a 1x1 convolution on an 8x8 image with 8 channels (1 KFLOP of work).</summary>
[Config(typeof(SuiteConfig))]
public class CallOverheadBenchmarks
{
    private ConvPlan? plan;
    private OnnxRuntimeBaseline? onnx;
    private float[] x = [], y = [], yOnnx = [];

    [Params("tiny_1x1")]
    public string Problem { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        var p = Suites.Tiny;
        var random = new Random(1);
        x = Fill.Values(p.InputLength, FillKind.Real, random);
        var w = Fill.Values(p.WeightsLength, FillKind.Real, random);
        var b = Fill.Values(p.BiasLength, FillKind.Real, random);
        y = new float[p.OutputLength];
        yOnnx = new float[p.OutputLength];
        plan = new CpuBackend(new CpuBackendOptions { Threads = 1 }).CreateConvPlan(p, w, b);
        onnx = new OnnxRuntimeBaseline(OnnxModel.Conv(p, w, b), 1,
            x, OnnxRuntimeBaseline.Shape(1, 8, 8, 8), yOnnx, OnnxRuntimeBaseline.Shape(1, 8, 8, 8));
        BaselineCheck.SameOutputs(p, () => plan.Run(x, y), onnx.Run, y, yOnnx);
    }

    [Benchmark(Baseline = true, Description = "ONNX Runtime")]
    public void OnnxRuntime() => onnx!.Run();

    [Benchmark(Description = "HpcCnn")]
    public void HpcCnn() => plan!.Run(x, y);

    [GlobalCleanup]
    public void Cleanup()
    {
        plan?.Dispose();
        onnx?.Dispose();
    }
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
            throw new InvalidOperationException($"{problem}: HpcCnn and ONNX Runtime differ by {worst} (output scale {scale})");
    }
}
