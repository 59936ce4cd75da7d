using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using HpcCnn.Cpu;
using HpcCnn.Problems;

namespace HpcCnn.Benchmarks;

/// <summary>Throughput of a benchmark case from its median: GFLOP/s, % of the measured FMA peak, or GB/s.</summary>
internal sealed class ThroughputColumn(string name, Func<Problem, int, double, string> format) : IColumn
{
    public static readonly ThroughputColumn Gflops = new("GFLOP/s", (p, _, ns) =>
        p.Operation.Flops(p) is > 0 and var flops ? (flops / ns).ToString("0.0") : "-");

    public static readonly ThroughputColumn PercentOfPeak = new("% peak", (p, threads, ns) =>
        p.Operation.Flops(p) is > 0 and var flops ? (flops / ns / Peak(threads) * 100).ToString("0.0") : "-");

    public static readonly ThroughputColumn GigabytesPerSecond = new("GB/s", (p, _, ns) => (p.Operation.Bytes(p) / ns).ToString("0.0"));

    private static readonly Dictionary<int, double> Peaks = [];

    /// <summary>The FMA peak the library measures on this machine, once per thread count.</summary>
    private static double Peak(int threads)
    {
        lock (Peaks)
        {
            if (!Peaks.TryGetValue(threads, out var peak)) Peaks[threads] = peak = NativeLibraryInfo.MeasureFmaPeak(threads);
            return peak;
        }
    }

    public string Id => nameof(ThroughputColumn) + ColumnName;
    public string ColumnName => name;
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => name switch
    {
        "GFLOP/s" => "Nominal FLOPs of the problem's direction (Operation.Flops) per nanosecond of the median",
        "% peak" => "GFLOP/s over the FMA peak hc_measure_fma_peak measures with the same thread count",
        _ => "Bytes the direction reads and writes (Operation.Bytes) per nanosecond of the median",
    };

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public bool IsAvailable(Summary summary) => true;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        // Only methods that run the problem itself have its FLOPs and bytes (not set_weights, say).
        if (benchmarkCase.Descriptor.WorkloadMethod.GetCustomAttributes(typeof(NotTheProblemAttribute), false).Length > 0) return "-";
        var median = summary[benchmarkCase]?.ResultStatistics?.Median;
        var problemName = benchmarkCase.Parameters.Items.FirstOrDefault(p => p.Name == "Problem")?.Value as string;
        if (median is not > 0 || problemName is null) return "-";
        var threads = benchmarkCase.Parameters.Items.FirstOrDefault(p => p.Name == "Threads")?.Value as int? ?? 1;
        return format(Suites.Find(problemName), threads, median.Value);
    }

    public override string ToString() => ColumnName;
}

/// <summary>Marks a benchmark method that times something other than one run of its Problem (no throughput columns).</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class NotTheProblemAttribute : Attribute;
