using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit.Abstractions;

namespace HpcCnn.Tests;

/// <summary>
/// Every C# snippet in the README compiles against the libraries and runs. Snippets continue the
/// text around them (they use `weights`, `x`, `images` ... declared earlier or described in prose),
/// so each gets a prelude here declaring just those; a new snippet without one fails by name.
/// Each runs in its own block, as its own program, in a folder of its own (the working directory
/// is process-wide, hence the collection that runs alone).
/// </summary>
[Collection(nameof(ProcessWideState))]
public partial class ReadmeSnippetTests(ITestOutputHelper output)
{
    /// <summary>What each snippet (by its first line) uses without declaring it.</summary>
    private static readonly Dictionary<string, string> Preludes = new()
    {
        ["using HpcCnn;"] = "",
        ["using HpcCnn.OpenCl;"] = """
            var problem = ConvProblem.Parse("mb1ic3ih32oc16kh3ph1");
            float[] weights = new float[problem.WeightsLength], bias = new float[problem.OutChannels];
            float[] input = new float[problem.InputLength], output = new float[problem.OutputLength];
            """,
        ["using HpcCnn.Training;"] = """
            using var cpu = new CpuBackend(new CpuBackendOptions { Threads = 2 });
            var shape = ConvProblem.Parse("mb64ic6ih14oc16kh5");
            float[] weights = Fill(shape.WeightsLength), bias = Fill(shape.OutChannels);
            float[] x = Fill(shape.InputLength), y = new float[shape.OutputLength];
            float[] dy = Fill(shape.OutputLength), dx = new float[shape.InputLength];
            float[] dw = new float[shape.WeightsLength], db = new float[shape.OutChannels];
            float[] velocity = new float[shape.WeightsLength], m = new float[shape.WeightsLength], v = new float[shape.WeightsLength];
            float[] logits = Fill(640), probabilities = new float[640], dlogits = new float[640];
            int[] labels = Enumerable.Range(0, 64).Select(i => i % 10).ToArray();
            float[] activations = Fill(1000), gradient = Fill(1000);
            long step = 1;
            static float[] Fill(long n) { var r = new Random(1); return Enumerable.Range(0, (int)n).Select(_ => (float)r.NextDouble() - 0.5f).ToArray(); }
            """,
        ["using HpcCnn.Cpu;"] = """
            float[] images = new float[64 * 784];
            int[] labels = new int[64];
            """,
        ["using var cpu = new CpuBackend();"] = """
            {
                using var maker = new CpuBackend();
                using var trained = Models.Cam().Build(maker, seed: 1);
                Directory.CreateDirectory("train-output");
                Model.Save(trained, Enumerable.Range(0, 10).Select(i => $"class {i}").ToList(), "train-output/model.safetensors");
            }
            int n = 4;
            float[] images = new float[n * 784];
            """,
    };

    /// <summary>
    /// using directives every snippet may rely on: a console project's implicit usings, and the
    /// library's namespaces a reader has from the snippets before.
    /// </summary>
    private const string CommonUsings = """
        using System;
        using System.Collections.Generic;
        using System.IO;
        using System.Linq;
        using System.Threading;
        using System.Threading.Tasks;
        using HpcCnn;
        using HpcCnn.Cpu;
        using HpcCnn.Problems;
        using HpcCnn.Training;
        using HpcCnn.Nn;
        """;

    [GeneratedRegex(@"```csharp\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex Snippet();

    private static List<string> ReadmeSnippets() =>
        Snippet().Matches(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "README.md"))).Select(m => m.Groups[1].Value).ToList();

    public static TheoryData<string> Snippets() => new(ReadmeSnippets());

    [Fact]
    public void The_readme_has_snippets_and_each_has_a_prelude()
    {
        var snippets = ReadmeSnippets();
        Assert.True(snippets.Count >= 5, $"found {snippets.Count} C# snippets in README.md");
        foreach (var snippet in snippets)
            Assert.True(Preludes.ContainsKey(FirstLine(snippet)), $"no prelude for the README snippet starting '{FirstLine(snippet)}'");
    }

    [SkippableTheory]
    [MemberData(nameof(Snippets))]
    public void Readme_snippet_compiles_and_runs(string snippet)
    {
        if (snippet.Contains("new OpenClBackend(")) TestBackends.OpenCl(); // skips without OpenCL (fails under CI)
        var lines = snippet.Split('\n');
        // `using X;` directives move to the top; `using var` statements stay in the body.
        var usings = lines.Where(IsUsingDirective).ToList();
        var body = string.Join('\n', lines.Where(l => !IsUsingDirective(l)));
        var source = $"{CommonUsings}\n{string.Join('\n', usings.Distinct())}\n{{\n{Preludes[FirstLine(snippet)]}\n{body}\n}}\n";

        var compilation = CSharpCompilation.Create(
            "ReadmeSnippet" + Guid.NewGuid().ToString("N"),
            [CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Latest))],
            References(),
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, allowUnsafe: true));
        using var image = new MemoryStream();
        var emitted = compilation.Emit(image);
        var errors = emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString()).ToList();
        Assert.True(emitted.Success, $"README snippet '{FirstLine(snippet)}' does not compile:\n{string.Join("\n", errors)}\n--- source ---\n{source}");

        var folder = Directory.CreateTempSubdirectory("hpccnn-readme-");
        var previous = Environment.CurrentDirectory;
        lock (WorkingDirectory)
        {
            // Snippets write files by relative path (lenet5.safetensors, train-output/): run in a folder of their own.
            Environment.CurrentDirectory = folder.FullName;
            var console = Console.Out;
            using var captured = new StringWriter();
            try
            {
                Console.SetOut(captured);
                var entry = Assembly.Load(image.ToArray()).EntryPoint!;
                entry.Invoke(null, entry.GetParameters().Length == 0 ? null : [Array.Empty<string>()]);
            }
            finally
            {
                Console.SetOut(console);
                Environment.CurrentDirectory = previous;
                folder.Delete(recursive: true);
            }
            output.WriteLine(captured.ToString());
        }
    }

    private static readonly object WorkingDirectory = new();

    private static bool IsUsingDirective(string line) =>
        line.StartsWith("using ", StringComparison.Ordinal) && !line.StartsWith("using var ", StringComparison.Ordinal) && line.TrimEnd().EndsWith(';');

    private static string FirstLine(string snippet) => snippet.Split('\n')[0].Trim();

    private static IEnumerable<MetadataReference> References()
    {
        var platform = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        var ours = new[] { typeof(Backend).Assembly.Location, typeof(global::HpcCnn.Nn.Sequential).Assembly.Location };
        return platform.Concat(ours).Distinct().Select(path => MetadataReference.CreateFromFile(path));
    }
}
