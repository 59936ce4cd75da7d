using System.ComponentModel;
using HpcCnn.Nn;
using Spectre.Console;
using Spectre.Console.Cli;

namespace HpcCnn.Cli;

/// <summary><c>hpccnn evaluate</c>: accuracy and confusion matrix of a model saved by <c>train</c>.</summary>
internal sealed class EvaluateCommand : Command<EvaluateCommand.Settings>
{
    public sealed class Settings : DataAndBackendSettings
    {
        [CommandOption("--weights <FILE>")]
        [Description("model.safetensors written by `hpccnn train`")]
        public string Weights { get; init; } = "";

        public override ValidationResult Validate() =>
            Weights.Length == 0 ? ValidationResult.Error("--weights FILE is required") : base.Validate();
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        try
        {
            var test = TrainingArguments.Load(settings.Data, train: false);
            using var backend = TrainingArguments.CreateBackend(settings);
            using var model = Model.Load(settings.Weights, backend);
            var network = model.Network;
            AnsiConsole.MarkupLine($"weights: [bold]{Markup.Escape(settings.Weights)}[/] ({model.Architecture.ParameterCount:N0} parameters, "
                                   + $"{model.Classes} classes); data: [bold]{Markup.Escape(test.Source)}[/], {test.Count} images; backend: {Markup.Escape(TrainingArguments.Describe(backend))}");
            var evaluation = Evaluation.Run(network, test);
            AnsiConsole.MarkupLine($"accuracy [bold]{evaluation.Accuracy:P2}[/], loss {evaluation.Loss:0.0000}");
            AnsiConsole.Write(TrainingArguments.ConfusionTable(evaluation));
            return 0;
        }
        catch (Exception e) when (TrainingArguments.IsUserError(e))
        {
            return TrainingArguments.Fail(e);
        }
    }
}
