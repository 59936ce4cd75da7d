using System.ComponentModel;
using HpcCnn.Cpu;
using HpcCnn.Nn;
using HpcCnn.OpenCl;
using Spectre.Console;
using Spectre.Console.Cli;

namespace HpcCnn.Cli;

/// <summary>The options <c>train</c> and <c>evaluate</c> share: data, backend, threads.</summary>
internal class DataAndBackendSettings : CommandSettings
{
    [CommandOption("--data <DIR>")]
    [Description("MNIST-format folder (train-/t10k-images-idx3-ubyte, optionally .gz, and labels); default: the embedded Fashion-MNIST sample")]
    public string? Data { get; init; }

    [CommandOption("--backend <BACKEND>")]
    [Description("cpu (default), opencl or reference")]
    public string Backend { get; init; } = "cpu";

    [CommandOption("--device <DEVICE>")]
    [Description("OpenCL device: index in `hpccnn info` or part of its name")]
    public string? Device { get; init; }

    [CommandOption("--threads <N>")]
    [Description("Threads per kernel call on the cpu backend (0 = all processors)")]
    public int Threads { get; init; }

    public override ValidationResult Validate() =>
        Backend is not ("cpu" or "opencl" or "reference") ? ValidationResult.Error("--backend must be cpu, opencl or reference")
        : Threads < 0 ? ValidationResult.Error("--threads must be 0 or more")
        : ValidationResult.Success();
}

internal static class TrainingArguments
{
    public static Backend CreateBackend(DataAndBackendSettings s) => s.Backend switch
    {
        "opencl" => new OpenClBackend(OpenClSelection.Parse(s.Device)),
        "reference" => HpcCnn.Backend.Reference,
        _ => new CpuBackend(new CpuBackendOptions { Threads = s.Threads }),
    };

    public static string Describe(Backend backend) => backend switch
    {
        CpuBackend cpu => $"cpu ({NativeLibraryInfo.BestIsa}, {cpu.Threads} thread{(cpu.Threads == 1 ? "" : "s")})",
        _ => backend.ToString(),
    };

    /// <summary>The training or test set of --data, or of the embedded sample.</summary>
    public static ImageDataset Load(string? folder, bool train) =>
        folder is null ? ImageDataset.FashionMnistSample(train) : ImageDataset.LoadFolder(folder, train);

    /// <summary>Bad input the commands report as one error line and exit code 2 (a file, a model, an argument) instead of a crash.</summary>
    public static bool IsUserError(Exception e) =>
        e is IOException or InvalidDataException or UnauthorizedAccessException or ArgumentException or FormatException or KeyNotFoundException;

    /// <summary>Prints <paramref name="e"/>'s message as the command's error; returns exit code 2.</summary>
    public static int Fail(Exception e)
    {
        AnsiConsole.MarkupLine($"[red]error[/]: {Markup.Escape(e.Message)}");
        return 2;
    }

    /// <summary>The confusion matrix with per-class precision and recall.</summary>
    public static Table ConfusionTable(Evaluation e)
    {
        var table = new Table().Title("confusion matrix (rows: true class, columns: predicted)").AddColumn("true \\ predicted");
        for (int p = 0; p < e.Classes; p++) table.AddColumn(new TableColumn(Markup.Escape(Short(e.ClassNames[p]))).RightAligned());
        table.AddColumn(new TableColumn("recall").RightAligned());
        for (int a = 0; a < e.Classes; a++)
        {
            var cells = new List<string> { Markup.Escape(e.ClassNames[a]) };
            for (int p = 0; p < e.Classes; p++) cells.Add(a == p ? $"[bold green]{e[a, p]}[/]" : e[a, p] == 0 ? "[grey]0[/]" : e[a, p].ToString());
            cells.Add(Percent(e.Recall(a)));
            table.AddRow(cells.ToArray());
        }
        var precision = new List<string> { "precision" };
        for (int p = 0; p < e.Classes; p++) precision.Add(Percent(e.Precision(p)));
        precision.Add($"[bold]{e.Accuracy:P1}[/]");
        table.AddRow(precision.ToArray());
        return table;
    }

    private static string Percent(double v) => double.IsNaN(v) ? "-" : v.ToString("P1");

    private static string Short(string name) => name.Length <= 9 ? name : name[..8] + "…";
}
