using HpcCnn.Training;

namespace HpcCnn.Reference;

/// <summary>
/// The oracle of dropout and the optimizers: the documented formulas element by element, in float,
/// in the documented order (.NET never fuses a multiply and an add on its own), so every backend
/// must match it bit for bit.
/// </summary>
internal static class ReferenceTraining
{
    public static void Dropout(DropoutMask dropout, long step, ReadOnlySpan<float> input, Span<float> output)
    {
        float scale = dropout.Scale;
        for (int i = 0; i < input.Length; i++) output[i] = dropout.Keeps(step, i) ? input[i] * scale : 0f;
    }

    public static void Sgd(Sgd sgd, Span<float> w, ReadOnlySpan<float> gradient, Span<float> v)
    {
        for (int i = 0; i < w.Length; i++)
        {
            float g = gradient[i] + sgd.WeightDecay * w[i];
            float update = g;
            if (sgd.Momentum != 0f)
            {
                v[i] = sgd.Momentum * v[i] + g;
                update = sgd.Nesterov ? g + sgd.Momentum * v[i] : v[i];
            }
            w[i] = w[i] - sgd.LearningRate * update;
        }
    }

    public static void Adam(Adam adam, long step, Span<float> w, ReadOnlySpan<float> gradient, Span<float> m, Span<float> v)
    {
        float stepSize = adam.StepSize(step), root = adam.RootCorrection2(step);
        float oneMinusBeta1 = 1f - adam.Beta1, oneMinusBeta2 = 1f - adam.Beta2;
        for (int i = 0; i < w.Length; i++)
        {
            float g = gradient[i] + adam.WeightDecay * w[i];
            m[i] = adam.Beta1 * m[i] + oneMinusBeta1 * g;
            v[i] = adam.Beta2 * v[i] + oneMinusBeta2 * g * g;
            float denominator = MathF.Sqrt(v[i]) / root + adam.Epsilon;
            w[i] = w[i] - stepSize * (m[i] / denominator);
        }
    }
}
