using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using HpcCnn.Cpu;
using HpcCnn.OpenCl;
using HpcCnn.Problems;
using HpcCnn.Verification;
using Spectre.Console;
using Spectre.Console.Cli;

namespace HpcCnn.Cli;

/// <summary>
/// <c>hpccnn bench</c>: a quick timing table (median of repeated runs) with GFLOP/s against the FMA
/// peak the library measures on this machine. For comparisons with other libraries use the
/// BenchmarkDotNet suite in benchmarks/HpcCnn.Benchmarks.
/// </summary>
internal sealed class BenchCommand : Command<BenchCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "[problems]")]
        [Description("Problem descriptors or @suite-file (default: the conv and pool suites)")]
        public string[] Problems { get; init; } = [];

        [CommandOption("--threads <N>")]
        [Description("Threads per call (0 = all processors)")]
        public int Threads { get; init; }

        [CommandOption("--isa <ISA>")]
        [Description("Cap the instruction set: auto, generic, avx2, avx512")]
        public CpuIsa Isa { get; init; }

        [CommandOption("--min-time <MS>")]
        [Description("Minimum measuring time per problem in milliseconds")]
        public int MinTimeMs { get; init; } = 300;

        [CommandOption("--backend <BACKEND>")]
        [Description("cpu (default) or opencl; opencl rows are timed with data resident on the device and again with upload and download")]
        public string Backend { get; init; } = "cpu";

        [CommandOption("--device <DEVICE>")]
        [Description("OpenCL device: its index in `hpccnn info`, or part of its name (default: first GPU, else first device)")]
        public string? Device { get; init; }

        [CommandOption("--kernel-style <STYLE>")]
        [Description("OpenCL kernel shapes: auto (default: by device type), cpu, gpu")]
        public OpenClKernelStyle KernelStyle { get; init; }

        [CommandOption("--csv")]
        [Description("Print CSV rows instead of a table")]
        public bool Csv { get; init; }

        public override ValidationResult Validate() =>
            Threads < 0 ? ValidationResult.Error("--threads must not be negative")
            : MinTimeMs <= 0 ? ValidationResult.Error("--min-time must be positive")
            : Backend is not ("cpu" or "opencl") ? ValidationResult.Error("--backend must be cpu or opencl")
            : ValidationResult.Success();
    }

    private sealed record Row(Problem Problem, string Backend, int Threads, double MedianMs, double? Gflops, double? PercentOfPeak,
        double GigabytesPerSecond, string Algorithm, string Isa)
    {
        /// <summary>For a memory-bound problem on the CPU: its time over that of one thread copying the same bytes.</summary>
        public double? TimesCopy { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        IReadOnlyList<Problem> problems;
        try
        {
            var arguments = settings.Problems.Concat(ProblemArguments.AfterSeparator).ToList();
            problems = ProblemArguments.Read(quiet: settings.Csv, arguments: arguments.Count > 0
                ? arguments
                : ["@" + Path.Combine(AppContext.BaseDirectory, "problems", "conv_suite.txt"),
                   "@" + Path.Combine(AppContext.BaseDirectory, "problems", "pool_suite.txt")]);
        }
        catch (Exception e) when (e is FormatException or IOException)
        {
            AnsiConsole.MarkupLine($"[red]error:[/] {Markup.Escape(e.Message)}");
            return 2;
        }

        var minTime = TimeSpan.FromMilliseconds(settings.MinTimeMs);
        var rows = new List<Row>();
        double peak;
        int threads;
        if (settings.Backend == "opencl")
        {
            OpenClBackend openCl;
            try
            {
                openCl = new OpenClBackend(OpenClSelection.Parse(settings.Device) with { KernelStyle = settings.KernelStyle });
            }
            catch (OpenClUnavailableException e)
            {
                AnsiConsole.MarkupLine($"[red]error:[/] {Markup.Escape(e.Message)}");
                return 2;
            }
            using (openCl)
            {
                // On a CPU device (PoCL) the kernels share this machine's FMA units, so its peak is the yardstick.
                threads = (int)openCl.Device.ComputeUnits;
                if (!settings.Csv) AnsiConsole.MarkupLine($"OpenCL device {openCl.Device.Index}: [bold]{Markup.Escape(openCl.Device.Name)}[/] ({openCl.Device.Type})");
                peak = openCl.Device.IsGpu ? double.NaN : NativeLibraryInfo.MeasureFmaPeak(threads);
                foreach (var problem in problems)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    rows.AddRange(MeasureOpenCl(openCl, problem, peak, minTime));
                }
            }
        }
        else
        {
            var backend = new CpuBackend(new CpuBackendOptions { Threads = settings.Threads, MaxIsa = settings.Isa });
            threads = backend.Threads;
            peak = NativeLibraryInfo.MeasureFmaPeak(backend.Threads);
            foreach (var problem in problems)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var row = Measure(backend, problem, peak, minTime);
                double copy = problem.Operation.Flops(problem) > 0 ? 0 : CopyMilliseconds(problem.Operation.Bytes(problem), minTime);
                // A copy below the timer's resolution gives no ratio.
                rows.Add(copy > 0 ? row with { TimesCopy = row.MedianMs / copy } : row);
            }
        }

        if (!double.IsNaN(peak))
        {
            // The machine may be shared: a peak measured while something else ran on these cores
            // would make every % too high (over 100 was seen), so the peak is measured again after
            // the problems and the higher of the two is the yardstick.
            double again = NativeLibraryInfo.MeasureFmaPeak(threads);
            if (again > peak)
            {
                peak = again;
                rows = rows.Select(r => r with { PercentOfPeak = r.Gflops / peak * 100 }).ToList();
            }
        }

        if (settings.Csv)
        {
            Console.WriteLine("name,descriptor,backend,threads,median_ms,gflops,pct_peak,gbps,times_copy,algorithm,isa");
            foreach (var r in rows)
                Console.WriteLine(string.Join(",", Csv(r.Problem.Name ?? ""), Csv(r.Problem.ToString()), r.Backend, r.Threads,
                    F(r.MedianMs, "0.######"), r.Gflops is { } g ? F(g, "0.##") : "", r.PercentOfPeak is { } p && !double.IsNaN(p) ? F(p, "0.#") : "",
                    F(r.GigabytesPerSecond, "0.##"), r.TimesCopy is { } c ? F(c, "0.##") : "", r.Algorithm, r.Isa));
            return 0;
        }

        if (!double.IsNaN(peak)) AnsiConsole.MarkupLine($"FMA peak measured on {threads} thread(s), before and after the problems, the higher: [bold]{F(peak, "0.0")} GFLOP/s[/]");
        var table = new Table()
            .AddColumn("problem").AddColumn(new TableColumn("median ms").RightAligned())
            .AddColumn(new TableColumn("GFLOP/s").RightAligned()).AddColumn(new TableColumn("% peak").RightAligned())
            .AddColumn(new TableColumn("GB/s").RightAligned()).AddColumn(new TableColumn("× copy").RightAligned())
            .AddColumn("backend").AddColumn("algorithm");
        foreach (var r in rows)
            table.AddRow(Markup.Escape(r.Problem.DisplayName), F(r.MedianMs, "0.0000"), r.Gflops is { } g ? F(g, "0.0") : "",
                r.PercentOfPeak is { } p && !double.IsNaN(p) ? F(p, "0.0") : "", F(r.GigabytesPerSecond, "0.0"),
                r.TimesCopy is { } c ? F(c, "0.00") : "", Markup.Escape(r.Backend), Markup.Escape($"{r.Algorithm} ({r.Isa})"));
        AnsiConsole.Write(table);
        return 0;
    }

    /// <summary>
    /// Two rows: the plan run on device tensors (queued, then waited for: what a pipeline that
    /// keeps data on the device pays), and the span overload, which uploads and downloads too.
    /// </summary>
    private static IEnumerable<Row> MeasureOpenCl(OpenClBackend backend, Problem problem, double peak, TimeSpan minTime)
    {
        using var prepared = problem.Operation.Prepare(backend, problem, seed: 1);
        int units = (int)backend.Device.ComputeUnits;
        yield return ToRow(problem, "opencl", units, MedianMilliseconds(prepared.RunResident!, minTime), peak, prepared.Algorithm, prepared.Isa);
        yield return ToRow(problem, "opencl+transfers", units, MedianMilliseconds(prepared.Run, minTime), peak, prepared.Algorithm, prepared.Isa);
    }

    private static Row ToRow(Problem problem, string backend, int threads, double median, double peak, string algorithm, string isa)
    {
        double flops = problem.Operation.Flops(problem);
        double? gflops = flops > 0 ? flops / (median * 1e6) : null;
        return new Row(problem, backend, threads, median, gflops, gflops / peak * 100, problem.Operation.Bytes(problem) / (median * 1e6), algorithm, isa);
    }

    private static Row Measure(CpuBackend backend, Problem problem, double peak, TimeSpan minTime)
    {
        using var prepared = problem.Operation.Prepare(backend, problem, seed: 1);
        return ToRow(problem, backend.ToString(), backend.Threads, MedianMilliseconds(prepared.Run, minTime), peak, prepared.Algorithm, prepared.Isa);
    }

    /// <summary>
    /// The yardstick of memory-bound operations: one thread copying half the bytes an operation
    /// moves (so the copy reads and writes as many bytes as the operation does), median time.
    /// </summary>
    private static double CopyMilliseconds(double bytes, TimeSpan minTime)
    {
        var source = new float[Math.Max(1, (long)(bytes / 2 / sizeof(float)))];
        var destination = new float[source.Length];
        source.AsSpan().Fill(1f);
        return MedianMilliseconds(() => source.AsSpan().CopyTo(destination), minTime);
    }

    /// <summary>Median of single-run times after a warm-up, over at least minTime and 5 runs.</summary>
    internal static double MedianMilliseconds(Action run, TimeSpan minTime)
    {
        for (int i = 0; i < 3; i++) run();
        var times = new List<double>();
        var total = Stopwatch.StartNew();
        while (times.Count < 5 || total.Elapsed < minTime)
        {
            long start = Stopwatch.GetTimestamp();
            run();
            times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
        times.Sort();
        return times[times.Count / 2];
    }

    private static string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);

    private static string Csv(string text) => text.Contains(',') || text.Contains('"') ? $"\"{text.Replace("\"", "\"\"")}\"" : text;
}
