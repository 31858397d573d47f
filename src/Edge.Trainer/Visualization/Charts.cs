using EdgeTL.Trainer.Adaptation;
using ScottPlot;

namespace EdgeTL.Trainer.Visualization;

/// <summary>
/// PNG pictures of a transfer run (ScottPlot): the feature space as t-SNE, coloured by class and
/// marked by domain; source and target curves on one chart; a confusion matrix. Files are written
/// to a temporary name and renamed, so a reader never sees half a picture.
/// </summary>
public static class Charts
{
    /// <summary>Marker of each domain: source filled circles, target open triangles.</summary>
    private static readonly MarkerShape[] DomainMarkers = [MarkerShape.FilledCircle, MarkerShape.OpenTriangleUp, MarkerShape.OpenSquare, MarkerShape.Cross];

    /// <summary>The colour of class <paramref name="index"/> (Category10, as matplotlib's tab10).</summary>
    public static Color ClassColor(int index) => new ScottPlot.Palettes.Category10().GetColor(index);

    /// <summary>
    /// Scatter of a 2-D embedding ([n][2]): one colour per class, one marker per domain
    /// (<paramref name="domains"/> null = one domain).
    /// </summary>
    public static void Embedding(string path, IReadOnlyList<double[]> points, IReadOnlyList<int> labels, IReadOnlyList<string> classNames,
        IReadOnlyList<int>? domains = null, IReadOnlyList<string>? domainNames = null, string title = "t-SNE of features", int width = 900, int height = 700)
    {
        ArgumentNullException.ThrowIfNull(points);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(classNames);
        if (labels.Count != points.Count || (domains is not null && domains.Count != points.Count) || points.Any(p => p.Length != 2))
            throw new EdgeTrainerException(TrainerErrorCode.InvalidInputShape, "An embedding plot needs [n][2] points with one label (and domain) each.");
        var plot = new Plot();
        int domainCount = domains is null ? 1 : domains.Max() + 1;
        for (int domain = 0; domain < domainCount; domain++)
        {
            for (int c = 0; c < classNames.Count; c++)
            {
                var rows = Enumerable.Range(0, points.Count).Where(i => labels[i] == c && (domains is null || domains[i] == domain)).ToArray();
                if (rows.Length == 0)
                    continue;
                var scatter = plot.Add.ScatterPoints(rows.Select(i => points[i][0]).ToArray(), rows.Select(i => points[i][1]).ToArray());
                scatter.Color = ClassColor(c);
                scatter.MarkerShape = DomainMarkers[domain % DomainMarkers.Length];
                scatter.MarkerSize = 6;
                scatter.LegendText = domains is null ? classNames[c] : $"{classNames[c]} ({domainNames?[domain] ?? $"domain {domain}"})";
            }
        }
        plot.Title(title);
        plot.ShowLegend(Alignment.UpperRight);
        Save(plot, path, width, height);
    }

    /// <summary>Loss and accuracy of source and target over an adaptation run, on one chart.</summary>
    public static void Curves(string path, IReadOnlyList<AdaptationCurvePoint> curve, string title = "Source and target during adaptation", int width = 900, int height = 600)
    {
        ArgumentNullException.ThrowIfNull(curve);
        if (curve.Count == 0)
            throw new EdgeTrainerException(TrainerErrorCode.InvalidInputShape, "A curve needs at least one point.");
        var plot = new Plot();
        double[] steps = [.. curve.Select(p => (double)p.Step)];
        Line(plot, steps, [.. curve.Select(p => p.SourceLoss)], "source loss", ClassColor(0), LinePattern.Solid, right: false);
        if (curve.All(p => p.TargetLoss is not null))
            Line(plot, steps, [.. curve.Select(p => p.TargetLoss!.Value)], "target loss", ClassColor(1), LinePattern.Solid, right: false);
        Line(plot, steps, [.. curve.Select(p => p.TransferLoss)], "transfer loss", ClassColor(2), LinePattern.Dotted, right: false);
        Line(plot, steps, [.. curve.Select(p => p.SourceAccuracy)], "source accuracy", ClassColor(0), LinePattern.Dashed, right: true);
        if (curve.All(p => p.TargetAccuracy is not null))
            Line(plot, steps, [.. curve.Select(p => p.TargetAccuracy!.Value)], "target accuracy", ClassColor(1), LinePattern.Dashed, right: true);
        plot.Title(title);
        plot.XLabel("step");
        plot.YLabel("loss");
        plot.Axes.Right.Label.Text = "accuracy";
        plot.ShowLegend(Alignment.MiddleRight);
        Save(plot, path, width, height);
    }

    /// <summary>Training loss (left axis) and accuracy (right axis) per epoch of one run.</summary>
    public static void TrainingCurve(string path, IReadOnlyList<(int Epoch, double Loss, double Accuracy)> epochs, string title = "Training", int width = 900, int height = 600)
    {
        ArgumentNullException.ThrowIfNull(epochs);
        if (epochs.Count == 0)
            throw new EdgeTrainerException(TrainerErrorCode.InvalidInputShape, "A training curve needs at least one epoch.");
        var plot = new Plot();
        double[] xs = [.. epochs.Select(e => (double)e.Epoch)];
        Line(plot, xs, [.. epochs.Select(e => e.Loss)], "train loss", ClassColor(0), LinePattern.Solid, right: false);
        Line(plot, xs, [.. epochs.Select(e => e.Accuracy)], "train accuracy", ClassColor(1), LinePattern.Dashed, right: true);
        plot.Title(title);
        plot.XLabel("epoch");
        plot.YLabel("loss");
        plot.Axes.Right.Label.Text = "accuracy";
        plot.ShowLegend(Alignment.MiddleRight);
        Save(plot, path, width, height);
    }

    /// <summary>One bar per layer group: where a shift shows (the BatchNorm statistics mismatch of <see cref="Adaptation.ShiftLocalization"/>).</summary>
    public static void StageMismatch(string path, IReadOnlyList<(string Stage, double Mismatch)> stages, string title = "Where the shift shows", int width = 900, int height = 500)
    {
        ArgumentNullException.ThrowIfNull(stages);
        if (stages.Count == 0)
            throw new EdgeTrainerException(TrainerErrorCode.InvalidInputShape, "A stage chart needs at least one stage.");
        var plot = new Plot();
        plot.Add.Bars([.. stages.Select(s => s.Mismatch)]);
        plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, stages.Count).Select(i => (double)i)], [.. stages.Select(s => s.Stage)]);
        plot.Axes.Margins(bottom: 0);
        plot.Title(title);
        plot.YLabel("BatchNorm statistics mismatch (symmetric KL per channel)");
        Save(plot, path, width, height);
    }

    /// <summary>A confusion matrix: rows are true classes, columns predicted, counts written in the cells.</summary>
    public static void ConfusionMatrix(string path, int[,] counts, IReadOnlyList<string> classNames, string title = "Confusion matrix", int width = 800, int height = 700)
    {
        ArgumentNullException.ThrowIfNull(counts);
        ArgumentNullException.ThrowIfNull(classNames);
        int k = classNames.Count;
        if (counts.GetLength(0) != k || counts.GetLength(1) != k)
            throw new EdgeTrainerException(TrainerErrorCode.InvalidInputShape, $"A confusion matrix of {k} classes must be {k}×{k}.");
        var values = new double[k, k];
        for (int r = 0; r < k; r++)
        {
            for (int c = 0; c < k; c++)
                values[r, c] = counts[r, c];
        }
        var plot = new Plot();
        var heatmap = plot.Add.Heatmap(values);
        heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
        plot.Add.ColorBar(heatmap);
        for (int r = 0; r < k; r++)
        {
            for (int c = 0; c < k; c++)
            {
                var text = plot.Add.Text(counts[r, c].ToString(System.Globalization.CultureInfo.InvariantCulture), c, k - 1 - r);
                text.LabelFontColor = Colors.White;
                text.LabelAlignment = Alignment.MiddleCenter;
            }
        }
        var ticks = Enumerable.Range(0, k).ToArray();
        plot.Axes.Bottom.SetTicks([.. ticks.Select(i => (double)i)], [.. classNames]);
        plot.Axes.Left.SetTicks([.. ticks.Select(i => (double)(k - 1 - i))], [.. classNames]);
        plot.Title(title);
        plot.XLabel("predicted");
        plot.YLabel("true");
        Save(plot, path, width, height);
    }

    private static void Line(Plot plot, double[] xs, double[] ys, string label, Color color, LinePattern pattern, bool right)
    {
        var line = plot.Add.Scatter(xs, ys);
        line.LegendText = label;
        line.Color = color;
        line.LinePattern = pattern;
        line.LineWidth = 2;
        line.MarkerSize = 4;
        if (right)
            line.Axes.YAxis = plot.Axes.Right;
    }

    private static void Save(Plot plot, string path, int width, int height)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string temporary = full + ".tmp.png";
        plot.SavePng(temporary, width, height);
        File.Move(temporary, full, overwrite: true);
    }
}
