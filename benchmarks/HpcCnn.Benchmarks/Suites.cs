using HpcCnn.Problems;

namespace HpcCnn.Benchmarks;

/// <summary>The problem suites of benchmarks/problems, embedded in this assembly.</summary>
internal static class Suites
{
    public static readonly IReadOnlyList<ConvProblem> Conv = Read("conv_suite.txt").Cast<ConvProblem>().ToList();
    public static readonly IReadOnlyList<PoolProblem> Pool = Read("pool_suite.txt").Cast<PoolProblem>().ToList();
    public static readonly IReadOnlyList<Problem> Networks = Read("networks_suite.txt");
    public static readonly IReadOnlyList<Problem> Training = Read("training_suite.txt");

    /// <summary>A tiny problem whose time is almost all per-call overhead.</summary>
    public static readonly ConvProblem Tiny = ConvProblem.Parse("mb1ic8ih8oc8kh1n\"tiny_1x1\"");

    /// <summary>A problem by name, or by name and direction ("lenet_c2 BWD_D") for the training suite, where names repeat.</summary>
    public static Problem Find(string name) =>
        Conv.Concat<Problem>(Pool).Concat(Networks).Append(Tiny).FirstOrDefault(p => p.Name == name)
        ?? Training.FirstOrDefault(p => p.DisplayName == name)
        ?? throw new ArgumentException($"no problem named {name}", nameof(name));

    private static IReadOnlyList<Problem> Read(string file)
    {
        using var stream = typeof(Suites).Assembly.GetManifestResourceStream(file)
            ?? throw new InvalidOperationException($"resource {file} is missing");
        using var reader = new StreamReader(stream);
        var lines = new List<string>();
        while (reader.ReadLine() is { } line) lines.Add(line);
        return ProblemSuite.Parse(lines, file);
    }
}
