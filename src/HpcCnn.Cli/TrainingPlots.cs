using HpcCnn.Nn;
using ScottPlot;

namespace HpcCnn.Cli;

/// <summary>PNG plots of a training run, drawn with ScottPlot.</summary>
internal static class TrainingPlots
{
    /// <summary>The confusion matrix as a heat map of row-normalised shares, with the counts written in.</summary>
    public static void Confusion(Evaluation e, string path)
    {
        int n = e.Classes;
        var shares = new double[n, n];
        for (int a = 0; a < n; a++)
        {
            long row = 0;
            for (int p = 0; p < n; p++) row += e[a, p];
            for (int p = 0; p < n; p++) shares[a, p] = row == 0 ? 0 : (double)e[a, p] / row;
        }
        // One rectangle per cell (a bitmap heat map is resampled half a cell off); true class a sits at y = n − 1 − a.
        var plot = new Plot();
        var colormap = new ScottPlot.Colormaps.Viridis();
        for (int a = 0; a < n; a++)
            for (int p = 0; p < n; p++)
            {
                double y = n - 1 - a;
                var cell = plot.Add.Rectangle(p - 0.5, p + 0.5, y - 0.5, y + 0.5);
                cell.FillColor = colormap.GetColor(shares[a, p]);
                cell.LineWidth = 0;
                var text = plot.Add.Text(e[a, p].ToString(), p, y);
                text.LabelAlignment = Alignment.MiddleCenter;
                text.LabelFontColor = shares[a, p] > 0.5 ? Colors.Black : Colors.White;
                text.LabelFontSize = 11;
            }
        // The colour bar needs a plottable with a colour axis: a hidden 0..1 heat map.
        var scale = plot.Add.Heatmap(new double[,] { { 0, 1 } });
        scale.Colormap = colormap;
        scale.IsVisible = false;
        plot.Add.ColorBar(scale).Label = "share of the true class";
        var positions = Enumerable.Range(0, n).Select(i => (double)i).ToArray();
        var names = e.ClassNames.ToArray();
        plot.Axes.Bottom.SetTicks(positions, names);
        plot.Axes.Bottom.TickLabelStyle.Rotation = -40;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.UpperRight;
        plot.Axes.Bottom.MinimumSize = 110;
        plot.Axes.Left.SetTicks([.. positions.Select(y => n - 1 - y)], names);
        plot.Axes.SetLimits(-0.5, n - 0.5, -0.5, n - 0.5);
        plot.XLabel("predicted");
        plot.YLabel("true");
        plot.Title($"Confusion matrix: accuracy {e.Accuracy:P2} on {e.Count:N0} images");
        plot.SavePng(path, 900, 820);
    }

    /// <summary>Train and test loss (left axis) and test accuracy (right axis) per epoch.</summary>
    public static void Curves(IReadOnlyList<EpochResult> results, string path)
    {
        var plot = new Plot();
        double[] epochs = [.. results.Select(r => (double)(r.Epoch + 1))];
        var train = plot.Add.Scatter(epochs, results.Select(r => r.TrainLoss).ToArray());
        train.LegendText = "train loss";
        var test = plot.Add.Scatter(epochs, results.Select(r => r.TestLoss).ToArray());
        test.LegendText = "test loss";
        var accuracy = plot.Add.Scatter(epochs, results.Select(r => r.TestAccuracy * 100).ToArray());
        accuracy.LegendText = "test accuracy (%)";
        accuracy.Axes.YAxis = plot.Axes.Right;
        accuracy.LinePattern = LinePattern.Dashed;
        plot.Axes.Right.Label.Text = "test accuracy (%)";
        plot.Axes.Left.Label.Text = "cross-entropy loss";
        plot.XLabel("epoch");
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericFixedInterval(1);
        plot.Title("Training curves");
        plot.ShowLegend(Alignment.MiddleRight);
        plot.SavePng(path, 900, 520);
    }
}
