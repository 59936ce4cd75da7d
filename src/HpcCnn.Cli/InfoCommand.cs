using HpcCnn.Cpu;
using HpcCnn.OpenCl;
using Spectre.Console;
using Spectre.Console.Cli;

namespace HpcCnn.Cli;

/// <summary><c>hpccnn info</c>: what the library and this machine offer.</summary>
internal sealed class InfoCommand : Command<InfoCommand.Settings>
{
    public sealed class Settings : CommandSettings;

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var table = new Table().AddColumn("item").AddColumn("value");
        try
        {
            table.AddRow("native library", Markup.Escape($"{NativeLibraryInfo.Version} ({NativeLibraryInfo.LoadedFrom})"));
            table.AddRow("CPU code path", Markup.Escape(NativeLibraryInfo.CpuFeatures));
            table.AddRow("threads", NativeLibraryInfo.DefaultThreads.ToString());
        }
        catch (DllNotFoundException e)
        {
            table.AddRow("native library", $"[red]not loaded[/]: {Markup.Escape(e.Message)}");
        }
        table.AddRow("processors", Environment.ProcessorCount.ToString());
        AnsiConsole.Write(table);

        var report = OpenClPlatforms.Query();
        if (report.Unavailable is not null)
        {
            AnsiConsole.MarkupLine($"OpenCL: [yellow]none[/]: {Markup.Escape(report.Unavailable)}");
            return 0;
        }
        var tree = new Tree("OpenCL platforms");
        foreach (var platform in report.Platforms)
        {
            var node = tree.AddNode(Markup.Escape($"{platform.Name}, {platform.Vendor}: {platform.Version}"));
            if (platform.Devices.Count == 0) node.AddNode("[yellow]no devices[/]");
            foreach (var device in platform.Devices)
            {
                var deviceNode = node.AddNode($"[bold]{device.Index}: {Markup.Escape(device.Name)}[/] ({device.Type})");
                deviceNode.AddNode(Markup.Escape($"version {device.Version}, driver {device.DriverVersion}, {device.OpenClCVersion}"));
                deviceNode.AddNode($"{device.ComputeUnits} compute units, {device.GlobalMemoryBytes / (1 << 20)} MiB global memory, "
                                   + $"{device.LocalMemoryBytes / 1024} KiB local memory, work-groups up to {device.MaxWorkGroupSize}");
                deviceNode.AddNode(Markup.Escape($"extensions: {device.Extensions}"));
            }
        }
        AnsiConsole.Write(tree);
        AnsiConsole.MarkupLine("Choose a device with [bold]--device <index or part of its name>[/] (default: the first GPU, else the first device).");
        return 0;
    }
}
