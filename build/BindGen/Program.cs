// Generates src/HpcCnn/Interop/NativeMethods.g.cs from native/include/hpccnn.h.
//   dotnet run --project build/BindGen            rewrite the generated file
//   dotnet run --project build/BindGen -- --check exit 1 when the committed file is stale
using HpcCnn.BindGen;

const string HeaderPath = "native/include/hpccnn.h";
const string OutputPath = "src/HpcCnn/Interop/NativeMethods.g.cs";

bool check = args.Contains("--check");
var unknown = args.Where(a => a != "--check").ToList();
if (unknown.Count > 0)
{
    Console.Error.WriteLine($"unknown argument(s): {string.Join(" ", unknown)}\nusage: BindGen [--check]");
    return 2;
}

try
{
    var root = FindRepositoryRoot();
    var generated = CSharpEmitter.Emit(HeaderModel.Parse(Path.Combine(root, HeaderPath)), HeaderPath);
    var outputFile = Path.Combine(root, OutputPath);
    var current = File.Exists(outputFile) ? File.ReadAllText(outputFile) : null;
    if (check)
    {
        if (current == generated)
        {
            Console.WriteLine($"{OutputPath} is up to date with {HeaderPath}");
            return 0;
        }
        Console.Error.WriteLine($"{OutputPath} is stale: run `dotnet run --project build/BindGen` and commit the result");
        return 1;
    }
    if (current == generated)
    {
        Console.WriteLine($"{OutputPath} unchanged");
        return 0;
    }
    File.WriteAllText(outputFile, generated);
    Console.WriteLine($"wrote {OutputPath}");
    return 0;
}
catch (Exception e) when (e is InvalidOperationException or NotSupportedException or DllNotFoundException or IOException)
{
    Console.Error.WriteLine($"BindGen: {e.Message}");
    return 1;
}

// The repository root is the nearest folder above the working directory or this program that holds the header.
static string FindRepositoryRoot()
{
    foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
    {
        for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, HeaderPath))) return dir.FullName;
    }
    throw new InvalidOperationException($"cannot find {HeaderPath} above {Directory.GetCurrentDirectory()}");
}
