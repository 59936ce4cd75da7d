using HpcCnn.Problems;

namespace HpcCnn.Cli;

/// <summary>
/// Problems named on the command line: descriptors, or @file for a suite file. A descriptor that
/// starts with an option (<c>--alg=max mb1ic8ih8kh2</c>) goes after <c>--</c>, or the command-line
/// parser would take it for an option of its own.
/// </summary>
internal static class ProblemArguments
{
    public static IReadOnlyList<Problem> Read(IEnumerable<string> arguments)
    {
        var problems = new List<Problem>();
        foreach (var argument in arguments)
        {
            problems.AddRange(argument.StartsWith('@')
                ? ProblemSuite.Read(argument[1..])
                : ProblemSuite.Parse([argument], "argument"));
        }
        if (problems.Count == 0) throw new FormatException("no problems given");
        return problems;
    }
}
