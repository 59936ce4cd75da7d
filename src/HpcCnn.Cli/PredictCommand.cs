using System.ComponentModel;
using HpcCnn.Nn;
using Spectre.Console;
using Spectre.Console.Cli;

namespace HpcCnn.Cli;

/// <summary><c>hpccnn predict</c>: classifies image files with a saved model.</summary>
internal sealed class PredictCommand : Command<PredictCommand.Settings>
{
    public sealed class Settings : DataAndBackendSettings
    {
        [CommandArgument(0, "<IMAGES>")]
        [Description("PNG, JPEG or other image files")]
        public string[] Images { get; init; } = [];

        [CommandOption("--weights <FILE>")]
        [Description("model.safetensors written by `hpccnn train`")]
        public string Weights { get; init; } = "";

        [CommandOption("--top <N>")]
        [Description("Classes to show per image (default 3)")]
        public int Top { get; init; } = 3;

        [CommandOption("--invert <WHEN>")]
        [Description("auto (default: when the border is mostly light), always or never")]
        public string Invert { get; init; } = "auto";

        public override ValidationResult Validate() =>
            Weights.Length == 0 ? ValidationResult.Error("--weights FILE is required")
            : Top < 1 ? ValidationResult.Error("--top must be at least 1")
            : Invert is not ("auto" or "always" or "never") ? ValidationResult.Error("--invert must be auto, always or never")
            : base.Validate();
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        try
        {
            using var backend = TrainingArguments.CreateBackend(settings);
            using var model = Model.Load(settings.Weights, backend);
            var shape = model.InputShape;
            if (shape.Channels != 1) throw new InvalidDataException($"{settings.Weights}: the model takes {shape}; predict reads grey images (1 channel)");
            var pixels = new float[settings.Images.Length * shape.Size];
            var inverted = new bool[settings.Images.Length];
            bool? invert = settings.Invert switch { "always" => true, "never" => false, _ => null };
            for (int i = 0; i < settings.Images.Length; i++)
                inverted[i] = ImageInput.Read(settings.Images[i], shape.Height, shape.Width, invert, pixels.AsSpan((int)(i * shape.Size), (int)shape.Size));
            var probabilities = model.Predict(pixels);
            var table = new Table().AddColumns("image", "prediction", "probability", "next");
            for (int i = 0; i < settings.Images.Length; i++)
            {
                var top = model.Top(probabilities.AsSpan(i * model.Classes, model.Classes), settings.Top);
                table.AddRow(Markup.Escape(settings.Images[i]) + (inverted[i] ? " [grey](inverted)[/]" : ""), $"[bold]{Markup.Escape(top[0].Name)}[/]",
                    $"{top[0].Probability:P1}", Markup.Escape(string.Join(", ", top.Skip(1).Select(t => $"{t.Name} {t.Probability:P1}"))));
            }
            AnsiConsole.Write(table);
            return 0;
        }
        catch (Exception e) when (TrainingArguments.IsUserError(e))
        {
            return TrainingArguments.Fail(e);
        }
    }
}
