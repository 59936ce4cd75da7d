using HpcCnn.Cli;
using Spectre.Console;
using Spectre.Console.Cli;

// Written to a file or a CI log, tables keep one row per line instead of wrapping at 80 columns.
if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 240;

var app = new CommandApp();
app.Configure(config =>
{
    config.SetApplicationName("hpccnn");
    config.AddCommand<InfoCommand>("info")
        .WithDescription("Library version, CPU code path, thread count and OpenCL platforms.");
    config.AddCommand<CheckCommand>("check")
        .WithDescription("Run problems on every available backend against the oracle; exit 1 on any failure.")
        .WithExample("check", "@benchmarks/problems/conv_suite.txt")
        .WithExample("check", "mb1ic64ih56oc64kh3ph1", "--threads", "1");
    config.AddCommand<BenchCommand>("bench")
        .WithDescription("Time problems on the native backend: median ms, GFLOP/s and % of the measured FMA peak.")
        .WithExample("bench", "@benchmarks/problems/conv_suite.txt", "--threads", "1")
        .WithExample("bench", "--csv");
    config.AddCommand<TrainCommand>("train")
        .WithDescription("Train a CNN on MNIST-format images (default: the embedded Fashion-MNIST sample); report, plot and save it.")
        .WithExample("train")
        .WithExample("train", "--data", "/usr/share/datasets/fashion-mnist", "--model", "strong", "--epochs", "5");
    config.AddCommand<EvaluateCommand>("evaluate")
        .WithDescription("Accuracy and confusion matrix of saved weights on a test set.")
        .WithExample("evaluate", "--weights", "train-output/model.safetensors");
    config.AddCommand<CamCommand>("cam")
        .WithDescription("Class activation maps of test images: PNGs with the map overlaid and a contact sheet (models ending in conv -> global average pooling -> dense).")
        .WithExample("cam", "--weights", "train-output/model.safetensors", "--images", "16");
    config.AddCommand<TransferCommand>("transfer")
        .WithDescription("Transfer learning, measured: a trunk trained on classes 0-4, a new head on 1,000 images of classes 5-9, against training from scratch.")
        .WithExample("transfer")
        .WithExample("transfer", "--data", "/usr/share/datasets/fashion-mnist", "--labelled", "1000");
    config.AddCommand<PredictCommand>("predict")
        .WithDescription("Classify image files (PNG, JPEG, ...) with saved weights: the top classes and their probabilities.")
        .WithExample("predict", "--weights", "train-output/model.safetensors", "shirt.png", "boot.jpg");
});
// Everything after `--` is problem descriptors, taken as they are: the command-line parser would
// still split a descriptor such as "--pool --alg=max mb1ic8ih8kh2" into options and fail.
var separator = Array.IndexOf(args, "--");
if (separator >= 0) ProblemArguments.AfterSeparator = args[(separator + 1)..];
return app.Run(separator >= 0 ? args[..separator] : args);
