using HpcCnn.Nn;
using SkiaSharp;

namespace HpcCnn.Cli;

/// <summary>
/// Pictures of class activation maps, drawn with SkiaSharp: the image, the same image with the map
/// overlaid in a perceptual colour map (ScottPlot's Inferno), and a caption with the predicted
/// and true classes; and a contact sheet of many.
/// </summary>
internal static class CamImages
{
    private const int Scale = 8, Margin = 8, Caption = 40;
    private static readonly ScottPlot.Colormaps.Inferno Colors = new();

    /// <summary>One tile: image and overlay side by side, caption below.</summary>
    public static SKBitmap Tile(float[] image, ClassActivationMap cam, IReadOnlyList<string> classNames, int? truth)
    {
        int h = cam.Height * Scale, w = cam.Width * Scale;
        var bitmap = new SKBitmap(2 * w + 3 * Margin, h + 2 * Margin + Caption);
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.White);
        using var grey = Pixels(cam.Height, cam.Width, i => Grey(image[i]));
        using var overlay = Pixels(cam.Height, cam.Width, i => Blend(Grey(image[i]), Heat(cam.Map[i]), 0.55f));
        var sampling = new SKSamplingOptions(SKFilterMode.Nearest);
        canvas.DrawImage(SKImage.FromBitmap(grey), new SKRect(Margin, Margin, Margin + w, Margin + h), sampling);
        canvas.DrawImage(SKImage.FromBitmap(overlay), new SKRect(2 * Margin + w, Margin, 2 * Margin + 2 * w, Margin + h), sampling);
        using var font = new SKFont(SKTypeface.Default, 13);
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        string predicted = $"predicted {classNames[cam.Predicted]} ({cam.Probabilities[cam.Predicted]:P0})";
        string actual = truth is int t ? $"true {classNames[t]}" : "";
        string shown = cam.Class == cam.Predicted ? "" : $", map of {classNames[cam.Class]}";
        canvas.DrawText(predicted + shown, Margin, h + Margin + 17, SKTextAlign.Left, font, ink);
        using var verdict = new SKPaint { Color = truth is null || truth == cam.Predicted ? new SKColor(0, 110, 0) : new SKColor(180, 0, 0), IsAntialias = true };
        canvas.DrawText(actual, Margin, h + Margin + 34, SKTextAlign.Left, font, verdict);
        return bitmap;
    }

    /// <summary>Tiles in a grid, as many columns as make it roughly square.</summary>
    public static SKBitmap Sheet(IReadOnlyList<SKBitmap> tiles)
    {
        int columns = Math.Max(1, (int)Math.Ceiling(Math.Sqrt(tiles.Count / 2.0))), rows = (tiles.Count + columns - 1) / columns;
        int tw = tiles[0].Width, th = tiles[0].Height;
        var sheet = new SKBitmap(columns * tw, rows * th);
        using var canvas = new SKCanvas(sheet);
        canvas.Clear(SKColors.White);
        for (int i = 0; i < tiles.Count; i++) canvas.DrawBitmap(tiles[i], i % columns * tw, i / columns * th);
        return sheet;
    }

    public static void SavePng(SKBitmap bitmap, string path)
    {
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        using var file = File.Create(path);
        data.SaveTo(file);
    }

    private static SKBitmap Pixels(int height, int width, Func<int, SKColor> color)
    {
        var bitmap = new SKBitmap(width, height);
        for (int i = 0; i < height * width; i++) bitmap.SetPixel(i % width, i / width, color(i));
        return bitmap;
    }

    private static SKColor Grey(float v)
    {
        byte b = (byte)Math.Round(255 * Math.Clamp(v, 0f, 1f));
        return new SKColor(b, b, b);
    }

    private static SKColor Heat(float v)
    {
        var c = Colors.GetColor(v);
        return new SKColor(c.R, c.G, c.B);
    }

    private static SKColor Blend(SKColor under, SKColor over, float alpha) => new(
        (byte)Math.Round(under.Red * (1 - alpha) + over.Red * alpha),
        (byte)Math.Round(under.Green * (1 - alpha) + over.Green * alpha),
        (byte)Math.Round(under.Blue * (1 - alpha) + over.Blue * alpha));
}
