using BenchmarkDotNet.Attributes;
using HpcCnn.Cpu;
using HpcCnn.OpenCl;
using HpcCnn.Problems;
using HpcCnn.Verification;

namespace HpcCnn.Benchmarks;

/// <summary>
/// The OpenCL backend on the default device against the Cpu backend (the baseline) on the conv
/// and pool suites, timed two ways: with data resident on the device (runs queued on device
/// tensors, then waited for) and with upload and download included (the span overload). On PoCL
/// the Ratio column is OpenCL time over Cpu time on the same cores.
/// </summary>
[Config(typeof(SuiteConfig))]
public class OpenClBenchmarks
{
    private CpuBackend? cpu;
    private OpenClBackend? openCl;
    private IDisposable? cpuPlan, openClPlan;
    private OpenClTensor? x, y;
    private Action? runCpu, runResident, runWithTransfers;

    public static IEnumerable<string> Problems() => Suites.Conv.Select(p => p.Name!).Concat(Suites.Pool.Select(p => p.Name!));

    [ParamsSource(nameof(Problems))]
    public string Problem { get; set; } = "";

    /// <summary>Threads of the Cpu baseline: every core, as PoCL uses.</summary>
    public static IEnumerable<int> AllCores() => [Environment.ProcessorCount];

    [ParamsSource(nameof(AllCores))]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var problem = Suites.Find(Problem);
        cpu = new CpuBackend(new CpuBackendOptions { Threads = Threads });
        openCl = new OpenClBackend();
        var random = new Random(1);
        var input = Fill.Values(problem.InputLength, FillKind.Real, random);
        float[] ours = new float[problem.OutputLength], baseline = new float[problem.OutputLength];
        x = openCl.Upload(input);
        y = openCl.CreateTensor(problem.OutputLength);
        if (problem is ConvProblem conv)
        {
            var w = Fill.Values(conv.WeightsLength, FillKind.Real, random);
            var b = Fill.Values(conv.BiasLength, FillKind.Real, random);
            var cpuConv = cpu.CreateConvPlan(conv, w, b);
            var openClConv = openCl.CreateConvPlan(conv, w, b);
            (cpuPlan, openClPlan) = (cpuConv, openClConv);
            runCpu = () => cpuConv.Run(input, baseline);
            runResident = () => { openClConv.Run(x, y); openCl.Finish(); };
            runWithTransfers = () => openClConv.Run(input, ours);
        }
        else
        {
            var pool = (PoolProblem)problem;
            var cpuPool = cpu.CreatePoolPlan(pool);
            var openClPool = openCl.CreatePoolPlan(pool);
            (cpuPlan, openClPlan) = (cpuPool, openClPool);
            runCpu = () => cpuPool.Run(input, baseline);
            runResident = () => { openClPool.Run(x, y); openCl.Finish(); };
            runWithTransfers = () => openClPool.Run(input, ours);
        }
        BaselineCheck.SameOutputs(problem, runWithTransfers, runCpu, ours, baseline);
    }

    [Benchmark(Baseline = true, Description = "Cpu")]
    public void Cpu() => runCpu!();

    [Benchmark(Description = "OpenCL resident")]
    public void OpenClResident() => runResident!();

    [Benchmark(Description = "OpenCL + transfers")]
    public void OpenClWithTransfers() => runWithTransfers!();

    [GlobalCleanup]
    public void Cleanup()
    {
        cpuPlan?.Dispose();
        openClPlan?.Dispose();
        x?.Dispose();
        y?.Dispose();
        openCl?.Dispose();
    }
}
