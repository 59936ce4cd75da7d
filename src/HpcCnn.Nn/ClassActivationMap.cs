namespace HpcCnn.Nn;

/// <summary>
/// Class activation maps (Zhou et al., "Learning deep features for discriminative localization",
/// CVPR 2016) for models that end in convolution → global average pooling → dense: the last
/// convolution's feature maps F (from the network's own forward pass, on its backend) weighted by
/// the chosen class's dense weights, Σ_k w[class][k]·F[k], upsampled bilinearly to the image size
/// (half-pixel centres, as PyTorch's interpolate with align_corners=False) and scaled to [0, 1].
/// </summary>
public sealed class ClassActivationMap
{
    private ClassActivationMap(float[] map, int height, int width, int @class, float[] probabilities)
    {
        Map = map;
        Height = height;
        Width = width;
        Class = @class;
        Probabilities = probabilities;
    }

    /// <summary>Height × width values in [0, 1] (all 0 when the map is flat).</summary>
    public float[] Map { get; }
    public int Height { get; }
    public int Width { get; }
    /// <summary>The class the map explains.</summary>
    public int Class { get; }
    /// <summary>The model's class probabilities for the image.</summary>
    public float[] Probabilities { get; }
    /// <summary>The most probable class.</summary>
    public int Predicted => Evaluation.ArgMax(Probabilities);

    /// <summary>
    /// The layer whose output feeds the global average pooling (the last convolution, or the
    /// activation after it), and the dense layer after the pooling.
    /// </summary>
    /// <exception cref="ArgumentException">The model does not end in convolution → global average pooling → (flatten) → dense.</exception>
    public static (int Features, int Dense) Layers(Sequential model)
    {
        ArgumentNullException.ThrowIfNull(model);
        int last = model.Count - 1;
        int pool = last - 1;
        if (pool >= 0 && model[pool] is Flatten) pool--;
        bool fits = model[last] is Dense && pool >= 1 && model[pool] is GlobalAvgPool
                    && (model[pool - 1] is Conv2d || (model[pool - 1] is ActivationLayer && pool >= 2 && model[pool - 2] is Conv2d));
        if (!fits)
            throw new ArgumentException("a class activation map needs a model ending in convolution (+ activation) → GlobalAvgPool → (Flatten) → Dense, "
                                        + $"as the 'cam' preset does; this one ends in {string.Join(" → ", model.Skip(Math.Max(0, model.Count - 4)).Select(l => l.GetType().Name))}",
                nameof(model));
        return (pool - 1, last);
    }

    /// <summary>The map of one image (<see cref="Sequential.InputShape"/> values) for <paramref name="class"/>, default the predicted class.</summary>
    /// <exception cref="ArgumentException">The model has no CAM form, the image is not one image, or the class is out of range.</exception>
    public static ClassActivationMap Compute(Network network, ReadOnlySpan<float> image, int? @class = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        var model = network.Model;
        var (features, dense) = Layers(model);
        if (image.Length != model.InputShape.Size)
            throw new ArgumentException($"one image of {model.InputShape} is {model.InputShape.Size} values, not {image.Length}", nameof(image));
        var probabilities = new float[network.Classes];
        network.Predict(image, probabilities);
        int target = @class ?? Evaluation.ArgMax(probabilities);
        if ((uint)target >= (uint)network.Classes)
            throw new ArgumentOutOfRangeException(nameof(@class), @class, $"the model has classes 0 .. {network.Classes - 1}");
        var maps = network.Activations(image, model[features].Name!);
        var shape = model.OutputShapeOf(features);
        var weights = network[$"{model[dense].Name}.weight"].Download();
        var coarse = new double[shape.Height * shape.Width];
        for (int k = 0; k < shape.Channels; k++)
        {
            double w = weights[target * shape.Channels + k];
            for (int i = 0; i < coarse.Length; i++) coarse[i] += w * maps[k * coarse.Length + i];
        }
        var map = Upsample(coarse, shape.Height, shape.Width, model.InputShape.Height, model.InputShape.Width);
        Normalise(map);
        return new ClassActivationMap(map, model.InputShape.Height, model.InputShape.Width, target, probabilities);
    }

    /// <summary>Bilinear resampling with half-pixel centres: output (y, x) samples input ((y + ½)·h/H − ½, (x + ½)·w/W − ½), clamped at the edges.</summary>
    public static float[] Upsample(ReadOnlySpan<double> source, int height, int width, int outHeight, int outWidth)
    {
        var result = new float[outHeight * outWidth];
        for (int y = 0; y < outHeight; y++)
        {
            var (y0, y1, fy) = Sample(y, height, outHeight);
            for (int x = 0; x < outWidth; x++)
            {
                var (x0, x1, fx) = Sample(x, width, outWidth);
                double top = source[y0 * width + x0] * (1 - fx) + source[y0 * width + x1] * fx;
                double bottom = source[y1 * width + x0] * (1 - fx) + source[y1 * width + x1] * fx;
                result[y * outWidth + x] = (float)(top * (1 - fy) + bottom * fy);
            }
        }
        return result;

        static (int, int, double) Sample(int o, int size, int outSize)
        {
            double position = Math.Max(0, (o + 0.5) * size / outSize - 0.5);
            int i0 = Math.Min((int)position, size - 1);
            return (i0, Math.Min(i0 + 1, size - 1), position - i0);
        }
    }

    private static void Normalise(float[] map)
    {
        float min = map.Min(), max = map.Max();
        for (int i = 0; i < map.Length; i++) map[i] = max > min ? (map[i] - min) / (max - min) : 0f;
    }
}
