using System.Text.RegularExpressions;

namespace HpcCnn.Problems;

/// <summary>A line of a suite that benchdnn accepts but HpcCnn does not run (a 3-D or 1-D problem), and why.</summary>
public sealed record SkippedProblem(string Source, int Line, string Text, string Reason)
{
    public override string ToString() => $"{Source}:{Line}: {Reason}";
}

/// <summary>The problems of a suite, in order, and the lines skipped as unsupported.</summary>
public sealed class ProblemList(IReadOnlyList<Problem> problems, IReadOnlyList<SkippedProblem> skipped) : IReadOnlyList<Problem>
{
    public IReadOnlyList<SkippedProblem> Skipped { get; } = skipped;
    public Problem this[int index] => problems[index];
    public int Count => problems.Count;
    public IEnumerator<Problem> GetEnumerator() => problems.GetEnumerator();
    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>
/// Reads problem lists in benchdnn's batch-file style: '#' starts a comment, a line holds options and
/// descriptors separated by spaces, and an option stays in force for the descriptors after it until
/// set again (or <c>--reset</c>), as in benchdnn:
/// <list type="bullet">
/// <item><c>--conv</c>, <c>--pool</c>, <c>--ip</c>, <c>--eltwise</c> (an <see cref="Operation.Driver"/>): the kind of the
/// problems that follow, and a reset of every other option to its default, as benchdnn starts each driver
/// afresh; without one, a descriptor with <c>oc</c> is a convolution and one without a pooling.</item>
/// <item><c>--dir=</c>: the direction (FWD_I, FWD_D, BWD_D, BWD_W, BWD_WB; FWD_B reads as FWD_D).</item>
/// <item><c>--alg=</c> (pooling, eltwise), <c>--alpha=</c> (eltwise), <c>--attr-post-ops=</c> (convolution): apply to problems of their kind.</item>
/// <item><c>--mb=N</c>: overrides the minibatch of the problems that follow (0: as written).</item>
/// <item><c>--match=REGEX</c>: keeps only problems whose canonical text matches.</item>
/// </list>
/// Lines benchdnn accepts but HpcCnn does not run (3-D, 1-D, dilated pooling) are skipped and listed
/// in <see cref="ProblemList.Skipped"/>; any other malformed line is an error naming file and line.
/// </summary>
public static class ProblemSuite
{
    private static readonly string[] CommonOptions = ["dir", "mb", "match"];
    private static readonly string[] KnownOptions = [.. CommonOptions, .. Operation.All.SelectMany(o => o.Options).Distinct()];

    /// <summary>Reads a suite file.</summary>
    /// <exception cref="FormatException">A line is malformed; the message gives file and line number.</exception>
    public static ProblemList Read(string path) => Parse(File.ReadLines(path), Path.GetFileName(path));

    /// <summary>Parses suite text; <paramref name="source"/> names it in error messages.</summary>
    public static ProblemList Parse(IEnumerable<string> lines, string source = "suite")
    {
        var problems = new List<Problem>();
        var skipped = new List<SkippedProblem>();
        var options = new Dictionary<string, string>();
        Operation? driver = null;
        int lineNumber = 0;
        foreach (var rawLine in lines)
        {
            lineNumber++;
            var line = StripComment(rawLine);
            try
            {
                foreach (var token in Descriptor.Tokenize(line))
                {
                    if (token.StartsWith("--", StringComparison.Ordinal) && Operation.ByDriver(token[2..]) is { } operation)
                    {
                        // As in benchdnn, where each driver starts from its own default settings.
                        driver = operation;
                        options.Clear();
                        continue;
                    }
                    if (token == "--reset")
                    {
                        options.Clear();
                        driver = null;
                        continue;
                    }
                    if (token.StartsWith("--", StringComparison.Ordinal))
                    {
                        Descriptor.AddOption(options, token, line);
                        var unknown = options.Keys.FirstOrDefault(k => !KnownOptions.Contains(k));
                        if (unknown != null)
                            throw new FormatException($"unknown option --{unknown} (known: {string.Join(", ", Operation.All.Select(o => "--" + o.Driver))}, --reset, {string.Join(", ", KnownOptions.Select(o => "--" + o))})");
                        continue;
                    }
                    try
                    {
                        if (ParseOne(token, driver, options) is { } problem) problems.Add(problem);
                    }
                    catch (UnsupportedProblemException e)
                    {
                        skipped.Add(new SkippedProblem(source, lineNumber, token, e.Message));
                    }
                }
            }
            catch (FormatException e) when (e is not UnsupportedProblemException)
            {
                throw new FormatException($"{source}:{lineNumber}: {e.Message}", e);
            }
        }
        return new ProblemList(problems, skipped);
    }

    /// <summary>One descriptor under the options in force; null when --match filters it out.</summary>
    private static Problem? ParseOne(string token, Operation? driver, Dictionary<string, string> options)
    {
        var operation = driver ?? (Descriptor.Parse(token, ConvProblem.Keys, new Dictionary<string, string>()).Has("oc") ? Operation.Conv : Operation.Pool);
        // Only the options of the problem's own kind apply to it (and --dir to every kind).
        var applicable = options.Where(o => o.Key == "dir" || operation.Options.Contains(o.Key)).ToDictionary(o => o.Key, o => o.Value);
        var problem = operation.Parse(token, applicable);
        if (options.TryGetValue("mb", out var mbText))
        {
            if (!int.TryParse(mbText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int mb))
                throw new FormatException($"--mb={mbText} must be a non-negative integer (0: the minibatch as written)");
            if (mb > 0) problem = problem.WithBatch(mb);
        }
        if (options.TryGetValue("match", out var pattern))
        {
            try
            {
                if (!Regex.IsMatch(problem.ToString(), pattern, RegexOptions.None, TimeSpan.FromSeconds(1))) return null;
            }
            catch (ArgumentException e)
            {
                throw new FormatException($"--match={pattern} is not a valid regular expression: {e.Message}");
            }
        }
        return problem;
    }

    private static string StripComment(string line)
    {
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            if (line[i] == '"') quoted = !quoted;
            else if (line[i] == '#' && !quoted) return line[..i];
        }
        return line;
    }
}
