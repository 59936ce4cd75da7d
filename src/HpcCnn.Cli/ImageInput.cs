using SkiaSharp;

namespace HpcCnn.Cli;

/// <summary>
/// Image files as a model's input: decoded by SkiaSharp (PNG, JPEG, ...), composited on black,
/// turned to grey (Rec. 601 luma), resized to the model's size and scaled to [0, 1], as the IDX
/// images the model was trained on. MNIST-style data is light on dark; an image whose border is
/// mostly light (a photo on a white background) is inverted unless told otherwise.
/// </summary>
internal static class ImageInput
{
    /// <summary>Fills <paramref name="pixels"/> (height × width) from the file; returns whether it was inverted.</summary>
    /// <exception cref="InvalidDataException">The file is not an image SkiaSharp can decode; the message names it.</exception>
    public static bool Read(string path, int height, int width, bool? invert, Span<float> pixels)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file", path);
        using var original = SKBitmap.Decode(path)
            ?? throw new InvalidDataException($"{path}: not an image SkiaSharp can decode (PNG, JPEG, WebP, GIF, BMP), or a damaged one");
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var resized = original.Resize(info, new SKSamplingOptions(SKCubicResampler.Mitchell))
            ?? throw new InvalidDataException($"{path}: could not be resized to {width}×{height}");
        var rgba = resized.GetPixelSpan();
        for (int i = 0; i < height * width; i++)
        {
            float alpha = rgba[4 * i + 3] / 255f;
            float luma = (0.299f * rgba[4 * i] + 0.587f * rgba[4 * i + 1] + 0.114f * rgba[4 * i + 2]) / 255f;
            pixels[i] = Math.Clamp(luma * alpha, 0f, 1f);
        }
        bool flip = invert ?? BorderMean(pixels[..(height * width)], height, width) > 0.5f;
        if (flip)
            for (int i = 0; i < height * width; i++) pixels[i] = 1f - pixels[i];
        return flip;
    }

    private static float BorderMean(ReadOnlySpan<float> pixels, int height, int width)
    {
        double sum = 0;
        int count = 0;
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                if (y == 0 || x == 0 || y == height - 1 || x == width - 1)
                {
                    sum += pixels[y * width + x];
                    count++;
                }
        return (float)(sum / count);
    }
}
