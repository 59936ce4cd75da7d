using HpcCnn.Problems;
using Spectre.Console;

namespace HpcCnn.Cli;

/// <summary>
/// Problems named on the command line: descriptors, or @file for a suite file. A descriptor that
/// starts with an option (<c>--alg=max mb1ic8ih8kh2</c>) goes after <c>--</c>, or the command-line
/// parser would take it for an option of its own.
/// </summary>
internal static class ProblemArguments
{
    /// <summary>The command line's arguments after <c>--</c>, kept from the command-line parser (Program.cs).</summary>
    public static string[] AfterSeparator { get; set; } = [];

    /// <summary>
    /// Every problem named, in order. Lines benchdnn accepts but HpcCnn does not run (3-D, 1-D) are
    /// skipped: each is reported with its reason, then the count (on standard error when
    /// <paramref name="quiet"/>, so that CSV output stays clean), and the rest run.
    /// </summary>
    public static ProblemList Read(IEnumerable<string> arguments, bool quiet = false)
    {
        var problems = new List<Problem>();
        var skipped = new List<SkippedProblem>();
        foreach (var argument in arguments)
        {
            var list = argument.StartsWith('@')
                ? ProblemSuite.Read(argument[1..])
                : ProblemSuite.Parse([argument], "argument");
            problems.AddRange(list);
            skipped.AddRange(list.Skipped);
        }
        if (skipped.Count > 0)
        {
            var console = quiet ? AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) }) : AnsiConsole.Console;
            foreach (var line in skipped) console.MarkupLine($"[yellow]skipped[/] {Markup.Escape(line.ToString())}");
            console.MarkupLine($"[yellow]skipped {skipped.Count} unsupported problem(s)[/]; running the other {problems.Count}");
        }
        if (problems.Count == 0) throw new FormatException(skipped.Count > 0 ? "no supported problems given" : "no problems given");
        return new ProblemList(problems, skipped);
    }
}
