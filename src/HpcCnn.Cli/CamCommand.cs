using System.ComponentModel;
using HpcCnn.Nn;
using SkiaSharp;
using Spectre.Console;
using Spectre.Console.Cli;

namespace HpcCnn.Cli;

/// <summary><c>hpccnn cam</c>: class activation maps of test images as PNGs and a contact sheet.</summary>
internal sealed class CamCommand : Command<CamCommand.Settings>
{
    public sealed class Settings : DataAndBackendSettings
    {
        [CommandOption("--weights <FILE>")]
        [Description("model.safetensors of a model ending in convolution → global average pooling → dense (train it with --model cam)")]
        public string Weights { get; init; } = "";

        [CommandOption("--images <N>")]
        [Description("The first N test images (default 16)")]
        public int Images { get; init; } = 16;

        [CommandOption("--index <I>")]
        [Description("Particular test images by index (repeatable); overrides --images")]
        public int[] Indices { get; init; } = [];

        [CommandOption("--class <C>")]
        [Description("The class to explain, by number or name (default: each image's predicted class)")]
        public string? Class { get; init; }

        [CommandOption("--out <DIR>")]
        [Description("Folder for cam-<index>.png and cam-sheet.png (default: cam-output)")]
        public string Out { get; init; } = "cam-output";

        public override ValidationResult Validate() =>
            Weights.Length == 0 ? ValidationResult.Error("--weights FILE is required")
            : Images < 1 ? ValidationResult.Error("--images must be at least 1")
            : Indices.Any(i => i < 0) ? ValidationResult.Error("--index must be 0 or more")
            : base.Validate();
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        try
        {
            var test = TrainingArguments.Load(settings.Data, train: false);
            using var backend = TrainingArguments.CreateBackend(settings);
            using var model = Model.Load(settings.Weights, backend);
            ClassActivationMap.Layers(model.Architecture);
            int? target = settings.Class is null ? null : ClassOf(settings.Class, model.ClassNames);
            int[] indices = settings.Indices.Length > 0 ? settings.Indices : [.. Enumerable.Range(0, Math.Min(settings.Images, test.Count))];
            foreach (int i in indices)
                if (i >= test.Count) throw new ArgumentException($"--index {i}: {test.Source} has {test.Count} images");
            Directory.CreateDirectory(settings.Out);
            int size = checked((int)test.Shape.Size);
            var image = new float[size];
            var label = new int[1];
            var tiles = new List<SKBitmap>();
            var table = new Table().AddColumns("image", "true", "predicted", "probability", "map of", "file");
            try
            {
                foreach (int i in indices)
                {
                    test.Gather([i], image, label);
                    var cam = ClassActivationMap.Compute(model.Network, image, target);
                    var tile = CamImages.Tile(image, cam, model.ClassNames, label[0]);
                    tiles.Add(tile);
                    string file = Path.Combine(settings.Out, $"cam-{i}.png");
                    CamImages.SavePng(tile, file);
                    table.AddRow(i.ToString(), Markup.Escape(model.ClassNames[label[0]]), Markup.Escape(model.ClassNames[cam.Predicted]),
                        $"{cam.Probabilities[cam.Predicted]:P1}", Markup.Escape(model.ClassNames[cam.Class]), Markup.Escape(file));
                }
                using var sheet = CamImages.Sheet(tiles);
                CamImages.SavePng(sheet, Path.Combine(settings.Out, "cam-sheet.png"));
            }
            finally
            {
                foreach (var t in tiles) t.Dispose();
            }
            AnsiConsole.MarkupLine($"data: [bold]{Markup.Escape(test.Source)}[/]; model: {Markup.Escape(settings.Weights)}; backend: {Markup.Escape(TrainingArguments.Describe(backend))}");
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"wrote [bold]{Markup.Escape(Path.Combine(settings.Out, "cam-sheet.png"))}[/] and {indices.Length} image(s)");
            return 0;
        }
        catch (Exception e) when (TrainingArguments.IsUserError(e))
        {
            return TrainingArguments.Fail(e);
        }
    }

    private static int ClassOf(string text, IReadOnlyList<string> names)
    {
        if (int.TryParse(text, out int c) && c >= 0 && c < names.Count) return c;
        for (int i = 0; i < names.Count; i++)
            if (string.Equals(names[i], text, StringComparison.OrdinalIgnoreCase)) return i;
        throw new ArgumentException($"--class {text}: not a class number (0 .. {names.Count - 1}) or name ({string.Join(", ", names)})");
    }
}
