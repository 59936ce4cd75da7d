using System.ComponentModel;
using HpcCnn.Nn;
using Spectre.Console;
using Spectre.Console.Cli;

namespace HpcCnn.Cli;

/// <summary>
/// <c>hpccnn transfer</c>: the transfer-learning experiment: a trunk trained on five classes, a new
/// head trained on the other five from a few labelled images, against training from scratch.
/// </summary>
internal sealed class TransferCommand : Command<TransferCommand.Settings>
{
    public sealed class Settings : DataAndBackendSettings
    {
        [CommandOption("--model <NAME>")]
        [Description("The trunk's preset: strong (default) or lenet5, kept through pool2 (the convolutions)")]
        public string Model { get; init; } = "strong";

        [CommandOption("--through <LAYER>")]
        [Description("The last trunk layer kept (default pool2: the convolutional features)")]
        public string? Through { get; init; }

        [CommandOption("--trunk-epochs <N>")]
        [Description("Epochs of the trunk on classes 0-4 (default 3)")]
        public int TrunkEpochs { get; init; } = 3;

        [CommandOption("--labelled <N>")]
        [Description("Labelled images of classes 5-9 for both arms (default 1000)")]
        public int Labelled { get; init; } = 1000;

        [CommandOption("--epochs <LIST>")]
        [Description("Budgets to compare, epochs over the labelled images for both arms (default 1,2,3,5,10)")]
        public string Epochs { get; init; } = "1,2,3,5,10";

        public int[] Budgets => [.. Epochs.Split(',').Select(e => int.TryParse(e, out int n) ? n : 0)];

        [CommandOption("--seed <N>")]
        public ulong Seed { get; init; } = 1;

        public override ValidationResult Validate() =>
            Model is not ("lenet5" or "strong") ? ValidationResult.Error("--model must be lenet5 or strong")
            : TrunkEpochs < 1 || Budgets.Any(e => e < 1) ? ValidationResult.Error("--trunk-epochs and each of --epochs must be a whole number of at least 1")
            : Labelled < 1 ? ValidationResult.Error("--labelled must be at least 1")
            : base.Validate();
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var work = Directory.CreateTempSubdirectory("hpccnn-transfer-");
        try
        {
            var train = TrainingArguments.Load(settings.Data, train: true);
            var test = TrainingArguments.Load(settings.Data, train: false);
            using var backend = TrainingArguments.CreateBackend(settings);
            var options = new TransferOptions
            {
                Model = settings.Model, Through = settings.Through ?? "pool2",
                TrunkEpochs = settings.TrunkEpochs, Labelled = settings.Labelled, Epochs = settings.Budgets, Seed = settings.Seed,
            };
            AnsiConsole.MarkupLine($"data: [bold]{Markup.Escape(train.Source)}[/] / [bold]{Markup.Escape(test.Source)}[/]; backend: {Markup.Escape(TrainingArguments.Describe(backend))}");
            var (trunk, budgets) = TransferExperiment.Run(backend, train, test, options, work.FullName, line => AnsiConsole.MarkupLine(Markup.Escape(line)));
            AnsiConsole.MarkupLine($"trunk: {trunk.TrainableParameters:N0} parameters, {trunk.Epochs} epochs in {trunk.Seconds:0.00} s, "
                                   + $"test accuracy {trunk.Test.Accuracy:P2} on {Markup.Escape(string.Join(", ", trunk.Test.ClassNames))}");
            var (first, _) = budgets[0];
            AnsiConsole.MarkupLine($"new classes: {Markup.Escape(string.Join(", ", first.Test.ClassNames))}; {Markup.Escape(first.TrainedOn)}; "
                                   + $"trainable parameters: transferred {first.TrainableParameters:N0}, from scratch {budgets[0].Scratch.TrainableParameters:N0}");
            var table = new Table().AddColumns("epochs", "transferred accuracy", "seconds", "from scratch accuracy", "seconds", "transferred − scratch");
            foreach (var c in table.Columns) c.RightAligned();
            foreach (var (transferred, scratch) in budgets)
                table.AddRow(transferred.Epochs.ToString(), $"{transferred.Test.Accuracy:P2}", transferred.Seconds.ToString("0.00"),
                    $"{scratch.Test.Accuracy:P2}", scratch.Seconds.ToString("0.00"), $"{(transferred.Test.Accuracy - scratch.Test.Accuracy) * 100:+0.0;-0.0} points");
            AnsiConsole.Write(table);
            return 0;
        }
        catch (Exception e) when (TrainingArguments.IsUserError(e))
        {
            return TrainingArguments.Fail(e);
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }
}
