using System.ComponentModel;
using System.Globalization;
using HpcCnn.Problems;
using HpcCnn.Verification;
using Spectre.Console;
using Spectre.Console.Cli;

namespace HpcCnn.Cli;

/// <summary><c>hpccnn check</c>: each problem on every available backend against the oracle.</summary>
internal sealed class CheckCommand : Command<CheckCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "[problems]")]
        [Description("Problem descriptors (e.g. mb1ic3ih32oc16kh3ph1) or @suite-file; after -- also ones that start with an option, e.g. -- \"--alg=max mb1ic8ih8kh2sh2\"")]
        public string[] Problems { get; init; } = [];

        [CommandOption("--threads <N>")]
        [Description("Threads per call for the native backend (0 = all processors)")]
        public int Threads { get; init; }

        [CommandOption("--seed <SEED>")]
        [Description("Seed of the test data")]
        public int Seed { get; init; } = 1;

        [CommandOption("--backend <BACKEND>")]
        [Description("Check only this backend: cpu or opencl (default: every available one)")]
        public string? Backend { get; init; }

        [CommandOption("--fill <FILLS>")]
        [Description("Test data, comma-separated: integer (compared bit for bit where exact), real (tolerance rule), nonfinite (integers with NaN and ±inf: the header's rule for them)")]
        public string Fill { get; init; } = "integer,real";

        /// <summary>The fills <see cref="Fill"/> names, or null where one is unknown.</summary>
        public IReadOnlyList<FillKind>? Fills =>
            Fill.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(name => name switch { "integer" => FillKind.SmallIntegers, "real" => FillKind.Real, "nonfinite" => FillKind.NonFinite, _ => (FillKind?)null })
                .ToList() is var kinds && kinds.Count > 0 && kinds.All(k => k is not null) ? kinds.Select(k => k!.Value).Distinct().ToList() : null;

        public override ValidationResult Validate() =>
            Threads < 0 ? ValidationResult.Error("--threads must not be negative")
            : Backend is not (null or "cpu" or "opencl") ? ValidationResult.Error("--backend must be cpu or opencl")
            : Fills is null ? ValidationResult.Error("--fill takes a comma-separated list of integer, real and nonfinite")
            : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        ProblemList problems;
        try
        {
            problems = ProblemArguments.Read(settings.Problems.Concat(ProblemArguments.AfterSeparator));
        }
        catch (Exception e) when (e is FormatException or IOException)
        {
            AnsiConsole.MarkupLine($"[red]error:[/] {Markup.Escape(e.Message)}");
            return 2;
        }

        var (available, unavailable) = Backend.Discover(settings.Threads);
        foreach (var reason in unavailable) AnsiConsole.MarkupLine($"[yellow]skipped backend[/] {Markup.Escape(reason)}");
        var backends = available.Where(b => b != Backend.Reference && (settings.Backend is null || b.Name == settings.Backend)).ToList();
        if (backends.Count == 0)
        {
            AnsiConsole.MarkupLine("[red]error:[/] no backend besides the oracle is available");
            return 2;
        }

        var table = new Table()
            .AddColumn("problem").AddColumn("backend").AddColumn("algorithm").AddColumn("output").AddColumn("fill")
            .AddColumn(new TableColumn("max abs err").RightAligned())
            .AddColumn(new TableColumn("err / bound").RightAligned())
            .AddColumn("result");
        var failures = new List<CheckResult>();
        int checkCount = 0;
        foreach (var problem in problems)
        {
            foreach (var fill in settings.Fills!)
            {
                IReadOnlyList<CheckResult> results;
                try
                {
                    results = CrossCheck.Run(backends, problem, fill, settings.Seed);
                }
                catch (ArgumentException e)
                {
                    AnsiConsole.MarkupLine($"[red]error:[/] {Markup.Escape(problem.ToString())}: {Markup.Escape(e.Message)}");
                    return 2;
                }
                foreach (var result in results)
                {
                    checkCount++;
                    if (!result.Passed) failures.Add(result);
                    table.AddRow(
                        Markup.Escape(problem.DisplayName), Markup.Escape(result.Backend), Markup.Escape(result.Algorithm), result.Output,
                        fill switch
                        {
                            FillKind.SmallIntegers => result.BitExactRequired ? "integer (exact)" : "integer",
                            FillKind.NonFinite => "nonfinite",
                            _ => "real",
                        },
                        result.MaxAbsError.ToString("0.0e+0", CultureInfo.InvariantCulture),
                        result.MaxErrorOverBound.ToString("0.000", CultureInfo.InvariantCulture),
                        result.Passed ? "[green]pass[/]" : "[red]FAIL[/]");
                }
            }
        }
        AnsiConsole.Write(table);
        foreach (var failure in failures) AnsiConsole.MarkupLine($"[red]FAIL[/] {Markup.Escape(failure.Describe())}");
        int checks = checkCount;
        string skipped = problems.Skipped.Count > 0 ? $"; {problems.Skipped.Count} unsupported problem(s) skipped" : "";
        AnsiConsole.MarkupLine(failures.Count == 0
            ? $"[green]all {checks} checks passed[/] ({problems.Count} problems on {Markup.Escape(string.Join(", ", backends))}{skipped})"
            : $"[red]{failures.Count} of {checks} checks failed[/]{skipped}");
        return failures.Count == 0 ? 0 : 1;
    }
}
