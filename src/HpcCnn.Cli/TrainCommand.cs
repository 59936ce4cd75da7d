using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using HpcCnn.Nn;
using HpcCnn.Training;
using Spectre.Console;
using Spectre.Console.Cli;

namespace HpcCnn.Cli;

/// <summary><c>hpccnn train</c>: trains a model on MNIST-format images and reports, plots and saves the result.</summary>
internal sealed class TrainCommand : Command<TrainCommand.Settings>
{
    public sealed class Settings : DataAndBackendSettings
    {
        [CommandOption("--model <NAME>")]
        [Description("lenet5 (default) or strong")]
        public string Model { get; init; } = "lenet5";

        [CommandOption("--epochs <N>")]
        [Description("Passes over the training images (default 10)")]
        public int Epochs { get; init; } = 10;

        [CommandOption("--batch <N>")]
        [Description("Images per step (default 64)")]
        public int Batch { get; init; } = 64;

        [CommandOption("--optimizer <NAME>")]
        [Description("sgd (default: momentum 0.9) or adam")]
        public string Optimizer { get; init; } = "sgd";

        [CommandOption("--lr <X>")]
        [Description("Learning rate (default 0.05 for sgd, 0.001 for adam)")]
        public float? LearningRate { get; init; }

        [CommandOption("--momentum <X>")]
        [Description("SGD momentum (default 0.9)")]
        public float Momentum { get; init; } = 0.9f;

        [CommandOption("--nesterov")]
        [Description("Nesterov momentum")]
        public bool Nesterov { get; init; }

        [CommandOption("--weight-decay <X>")]
        [Description("L2 weight decay (default 0)")]
        public float WeightDecay { get; init; }

        [CommandOption("--schedule <S>")]
        [Description("Learning-rate schedule: constant (default), cosine, step:EPOCHS[[:GAMMA]]")]
        public string Schedule { get; init; } = "constant";

        [CommandOption("--seed <N>")]
        [Description("Seed of the initial weights, the dropout masks and the shuffling (default 1)")]
        public ulong Seed { get; init; } = 1;

        [CommandOption("--limit <N>")]
        [Description("Train on the first N training images only")]
        public int? Limit { get; init; }

        [CommandOption("--out <DIR>")]
        [Description("Folder for confusion.png, curves.png, metrics.json and model.safetensors (default: train-output)")]
        public string Out { get; init; } = "train-output";

        public override ValidationResult Validate()
        {
            var basic = base.Validate();
            if (!basic.Successful) return basic;
            if (!Models.Names.Contains(Model)) return ValidationResult.Error($"--model must be one of {string.Join(", ", Models.Names)}");
            if (Epochs < 0) return ValidationResult.Error("--epochs must be 0 or more");
            if (Batch < 1) return ValidationResult.Error("--batch must be at least 1");
            if (Optimizer is not ("sgd" or "adam")) return ValidationResult.Error("--optimizer must be sgd or adam");
            if (Limit is < 1) return ValidationResult.Error("--limit must be at least 1");
            try
            {
                LearningRateSchedule.Parse(Schedule, Epochs);
                CreateOptimizer().Dispose();
            }
            catch (Exception e) when (e is FormatException or ArgumentException)
            {
                return ValidationResult.Error(e.Message);
            }
            return ValidationResult.Success();
        }

        public Optimizer CreateOptimizer() => Optimizer == "adam"
            ? new AdamOptimizer(new Adam { LearningRate = LearningRate ?? 0.001f, WeightDecay = WeightDecay })
            : new SgdOptimizer(new Sgd { LearningRate = LearningRate ?? 0.05f, Momentum = Momentum, Nesterov = Nesterov, WeightDecay = WeightDecay });
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        ImageDataset train, test;
        try
        {
            train = TrainingArguments.Load(settings.Data, train: true);
            test = TrainingArguments.Load(settings.Data, train: false);
        }
        catch (Exception e) when (TrainingArguments.IsUserError(e))
        {
            return TrainingArguments.Fail(e);
        }
        if (settings.Limit is int limit) train = train.Take(limit);
        var model = Models.Create(settings.Model, train.Classes, train.Shape);

        using var backend = TrainingArguments.CreateBackend(settings);
        using var network = model.Build(backend, settings.Seed);
        using var optimizer = settings.CreateOptimizer();
        float initialRate = optimizer.LearningRate;
        var options = new TrainerOptions
        {
            Epochs = settings.Epochs, BatchSize = settings.Batch, Seed = settings.Seed,
            Schedule = LearningRateSchedule.Parse(settings.Schedule, settings.Epochs),
        };
        var trainer = new Trainer(network, optimizer, options);

        AnsiConsole.MarkupLine($"data: [bold]{Markup.Escape(train.Source)}[/], {train.Count} training images; "
                               + $"{Markup.Escape(test.Source)}, {test.Count} test images ({train.Shape}, {train.Classes} classes)");
        AnsiConsole.MarkupLine($"model: [bold]{settings.Model}[/], {model.ParameterCount:N0} parameters; backend: [bold]{Markup.Escape(TrainingArguments.Describe(backend))}[/]; "
                               + $"{settings.Optimizer} lr {initialRate.ToString(CultureInfo.InvariantCulture)} ({Markup.Escape(options.Schedule.ToString()!)}), "
                               + $"batch {settings.Batch}, {settings.Epochs} epochs, seed {settings.Seed}");
        AnsiConsole.Write(ModelTable(model));

        var results = new List<EpochResult>();
        var epochs = new Table().AddColumns("epoch", "lr", "train loss", "test loss", "test accuracy", "images/s", "seconds");
        foreach (var c in epochs.Columns.Skip(1)) c.RightAligned();
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(ctx =>
            {
                for (int epoch = 0; epoch < settings.Epochs; epoch++)
                {
                    var task = ctx.AddTask($"epoch {epoch + 1}/{settings.Epochs}", maxValue: train.Count);
                    var progress = new SynchronousProgress<TrainingProgress>(p =>
                    {
                        task.Value = p.Images;
                        task.Description = $"epoch {epoch + 1}/{settings.Epochs}  loss {p.MeanLoss:0.0000}  {p.ImagesPerSecond:N0} images/s";
                    });
                    var r = trainer.RunEpoch(epoch, train, test, progress, cancellationToken);
                    task.Description = $"epoch {epoch + 1}/{settings.Epochs}  loss {r.TrainLoss:0.0000}  {r.ImagesPerSecond:N0} images/s  "
                                       + $"test accuracy {r.TestAccuracy:P2}  test loss {r.TestLoss:0.0000}";
                    task.StopTask();
                    results.Add(r);
                }
            });
        foreach (var r in results)
            epochs.AddRow($"{r.Epoch + 1}", r.LearningRate.ToString("0.#####", CultureInfo.InvariantCulture), $"{r.TrainLoss:0.0000}", $"{r.TestLoss:0.0000}",
                $"{r.TestAccuracy:P2}", $"{r.ImagesPerSecond:N0}", $"{r.Seconds:0.00}");
        AnsiConsole.Write(epochs);

        var final = results.Count > 0 ? results[^1].Test : Evaluation.Run(network, test);
        AnsiConsole.Write(TrainingArguments.ConfusionTable(final));

        Directory.CreateDirectory(settings.Out);
        Model.Save(network, train.ClassNames, Path.Combine(settings.Out, "model.safetensors"),
            new Dictionary<string, string> { ["hpccnn.model"] = settings.Model, ["hpccnn.data"] = train.Source });
        File.WriteAllText(Path.Combine(settings.Out, "metrics.json"), Metrics(settings, backend, model, initialRate, train, test, results, final));
        TrainingPlots.Confusion(final, Path.Combine(settings.Out, "confusion.png"));
        if (results.Count > 0) TrainingPlots.Curves(results, Path.Combine(settings.Out, "curves.png"));
        AnsiConsole.MarkupLine($"wrote [bold]{Markup.Escape(Path.Combine(settings.Out, ""))}[/]: model.safetensors, metrics.json, confusion.png"
                               + (results.Count > 0 ? ", curves.png" : ""));
        return 0;
    }

    internal static Table ModelTable(Sequential model)
    {
        var table = new Table().AddColumns("layer", "operation", "output", "parameters");
        table.Columns[3].RightAligned();
        table.AddRow("input", "", model.InputShape.ToString(), "");
        foreach (var (name, description, output, parameters) in model.Summary())
            table.AddRow(Markup.Escape(name), Markup.Escape(description), output.ToString(), parameters == 0 ? "" : parameters.ToString("N0"));
        return table;
    }

    private static string Metrics(Settings s, Backend backend, Sequential model, float initialRate, ImageDataset train, ImageDataset test,
        IReadOnlyList<EpochResult> results, Evaluation final) => JsonSerializer.Serialize(new
    {
        model = s.Model,
        parameters = model.ParameterCount,
        backend = TrainingArguments.Describe(backend),
        threads = backend is Cpu.CpuBackend cpu ? cpu.Threads : (int?)null,
        seed = s.Seed,
        optimizer = s.Optimizer,
        learning_rate = initialRate,
        schedule = s.Schedule,
        batch = s.Batch,
        data = new { train = train.Source, train_images = train.Count, test = test.Source, test_images = test.Count, shape = train.Shape.ToString(), classes = train.ClassNames },
        epochs = results.Select(r => new
        {
            epoch = r.Epoch + 1,
            learning_rate = r.LearningRate,
            train_loss = r.TrainLoss,
            test_loss = r.TestLoss,
            test_accuracy = r.TestAccuracy,
            images_per_second = r.ImagesPerSecond,
            seconds = r.Seconds,
        }),
        final = new
        {
            accuracy = final.Accuracy,
            loss = final.Loss,
            confusion = final.ToRows(),
            precision = Enumerable.Range(0, final.Classes).Select(c => Finite(final.Precision(c))),
            recall = Enumerable.Range(0, final.Classes).Select(c => Finite(final.Recall(c))),
        },
    }, new JsonSerializerOptions { WriteIndented = true });

    private static double? Finite(double v) => double.IsNaN(v) ? null : v;
}

/// <summary>An IProgress that reports on the calling thread (Progress&lt;T&gt; posts to the thread pool).</summary>
internal sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
