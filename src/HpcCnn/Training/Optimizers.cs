namespace HpcCnn.Training;

/// <summary>
/// Stochastic gradient descent as PyTorch's <c>torch.optim.SGD</c> (no dampening), element by
/// element in float, in this order and without fused multiply-adds, on every backend:
/// g = gradient + WeightDecay·w; v = Momentum·v + g (with momentum);
/// w = w − LearningRate·(Nesterov ? g + Momentum·v : Momentum ≠ 0 ? v : g).
/// </summary>
public sealed record Sgd
{
    public float LearningRate { get; init; } = 0.01f;
    public float Momentum { get; init; }
    public float WeightDecay { get; init; }
    /// <summary>Nesterov momentum; needs <see cref="Momentum"/> &gt; 0.</summary>
    public bool Nesterov { get; init; }

    /// <summary>Whether an update needs a velocity buffer.</summary>
    public bool NeedsVelocity => Momentum != 0f;

    /// <exception cref="ArgumentOutOfRangeException">A hyper-parameter is negative or not finite, or Nesterov lacks momentum.</exception>
    public void Validate()
    {
        OptimizerRules.FiniteAtLeastZero(LearningRate, nameof(LearningRate));
        OptimizerRules.FiniteAtLeastZero(Momentum, nameof(Momentum));
        OptimizerRules.FiniteAtLeastZero(WeightDecay, nameof(WeightDecay));
        if (Nesterov && Momentum == 0f) throw new ArgumentOutOfRangeException(nameof(Nesterov), Nesterov, "Nesterov momentum needs Momentum > 0");
    }
}

/// <summary>
/// Adam with bias correction as PyTorch's <c>torch.optim.Adam</c> (weight decay added to the
/// gradient), in float, in this order, without fused multiply-adds, on every backend:
/// g = gradient + WeightDecay·w; m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g·g;
/// w = w − StepSize(t)·(m / (√v / RootCorrection2(t) + ε)), t the 1-based step.
/// </summary>
public sealed record Adam
{
    public float LearningRate { get; init; } = 0.001f;
    public float Beta1 { get; init; } = 0.9f;
    public float Beta2 { get; init; } = 0.999f;
    public float Epsilon { get; init; } = 1e-8f;
    public float WeightDecay { get; init; }

    /// <summary>LearningRate / (1 − β1^t), computed in double and rounded to float.</summary>
    public float StepSize(long step) => (float)(LearningRate / (1.0 - Math.Pow(Beta1, step)));

    /// <summary>√(1 − β2^t), computed in double and rounded to float.</summary>
    public float RootCorrection2(long step) => (float)Math.Sqrt(1.0 - Math.Pow(Beta2, step));

    /// <exception cref="ArgumentOutOfRangeException">A hyper-parameter is out of its range.</exception>
    public void Validate()
    {
        OptimizerRules.FiniteAtLeastZero(LearningRate, nameof(LearningRate));
        OptimizerRules.FiniteAtLeastZero(WeightDecay, nameof(WeightDecay));
        if (!(Beta1 >= 0f && Beta1 < 1f)) throw new ArgumentOutOfRangeException(nameof(Beta1), Beta1, "Beta1 must be in [0, 1)");
        if (!(Beta2 >= 0f && Beta2 < 1f)) throw new ArgumentOutOfRangeException(nameof(Beta2), Beta2, "Beta2 must be in [0, 1)");
        if (!(float.IsFinite(Epsilon) && Epsilon > 0f)) throw new ArgumentOutOfRangeException(nameof(Epsilon), Epsilon, "Epsilon must be finite and positive");
    }
}

internal static class OptimizerRules
{
    public static void FiniteAtLeastZero(float value, string name)
    {
        if (!(float.IsFinite(value) && value >= 0f)) throw new ArgumentOutOfRangeException(name, value, $"{name} must be finite and at least 0");
    }

    public static void Step(long step)
    {
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(step), step, "step counts from 1");
    }
}
