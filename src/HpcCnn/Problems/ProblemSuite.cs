namespace HpcCnn.Problems;

/// <summary>
/// Reads problem lists in benchdnn's batch-file style: '#' starts a comment, a line holds options
/// (<c>--alg=max</c>, <c>--attr-post-ops=relu</c>) and descriptors separated by spaces, and an option
/// stays in force for the descriptors after it until set again, as in benchdnn. A descriptor with
/// <c>oc</c> is a convolution, one without is a pooling.
/// </summary>
public static class ProblemSuite
{
    /// <summary>Reads a suite file.</summary>
    /// <exception cref="FormatException">A line is malformed; the message gives file and line number.</exception>
    public static IReadOnlyList<Problem> Read(string path) => Parse(File.ReadLines(path), Path.GetFileName(path));

    /// <summary>Parses suite text; <paramref name="source"/> names it in error messages.</summary>
    public static IReadOnlyList<Problem> Parse(IEnumerable<string> lines, string source = "suite")
    {
        var problems = new List<Problem>();
        var options = new Dictionary<string, string>();
        int lineNumber = 0;
        foreach (var rawLine in lines)
        {
            lineNumber++;
            var line = StripComment(rawLine);
            try
            {
                foreach (var token in Descriptor.Tokenize(line))
                {
                    if (token.StartsWith("--", StringComparison.Ordinal))
                    {
                        Descriptor.AddOption(options, token, line);
                        var unknown = options.Keys.FirstOrDefault(k => k is not ("alg" or "attr-post-ops"));
                        if (unknown != null) throw new FormatException($"unknown option --{unknown} (known: --alg, --attr-post-ops)");
                        continue;
                    }
                    var probe = Descriptor.Parse(token, ConvProblem.Keys, new Dictionary<string, string>());
                    // Only the options of the problem's own kind apply to it.
                    var applicable = options.Where(o => probe.Has("oc") ? o.Key == "attr-post-ops" : o.Key == "alg")
                        .ToDictionary(o => o.Key, o => o.Value);
                    var descriptor = Descriptor.Parse(token, ConvProblem.Keys, applicable);
                    problems.Add(probe.Has("oc") ? ConvProblem.FromDescriptor(descriptor) : PoolProblem.FromDescriptor(descriptor));
                }
            }
            catch (FormatException e)
            {
                throw new FormatException($"{source}:{lineNumber}: {e.Message}", e);
            }
        }
        return problems;
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
