namespace HpcCnn.Problems;

/// <summary>
/// Elementwise activations: the one list for a convolution's fused epilogue and for the
/// standalone elementwise operation. The backward pass reads the forward output y (see
/// <c>native/include/hpccnn.h</c>); the numbers match <c>hc_activation</c>.
/// </summary>
public enum Activation
{
    /// <summary>y = x.</summary>
    None = 0,
    /// <summary>y = max(x, 0); dx = y &gt; 0 ? dy : 0.</summary>
    Relu = 1,
    /// <summary>y = x for x &gt; 0, alpha·x otherwise; dx = y &gt; 0 ? dy : alpha·dy (alpha ≥ 0 for the backward pass).</summary>
    LeakyRelu = 2,
    /// <summary>y = tanh(x); dx = dy·(1 − y²).</summary>
    Tanh = 3,
    /// <summary>y = 1 / (1 + exp(−x)); dx = dy·y·(1 − y).</summary>
    Sigmoid = 4,
}

/// <summary>Pooling algorithms, named as in benchdnn's <c>--alg=</c>.</summary>
public enum PoolAlgorithm
{
    /// <summary>Maximum over the window (<c>max</c>).</summary>
    Max,
    /// <summary>Average over the whole window, padding counted as zeros (<c>avg_p</c>).</summary>
    AverageIncludePadding,
    /// <summary>Average over the window's elements inside the image (<c>avg_np</c>).</summary>
    AverageExcludePadding,
}

/// <summary>benchdnn's names of activations (<c>--alg=</c> of its eltwise driver, <c>--attr-post-ops=</c>).</summary>
internal static class ActivationText
{
    public static string Name(Activation activation) => activation switch
    {
        Activation.None => "linear",
        Activation.Relu or Activation.LeakyRelu => "relu",
        Activation.Tanh => "tanh",
        Activation.Sigmoid => "logistic",
        _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, "unknown activation"),
    };

    /// <summary>relu with a non-zero alpha is LeakyReLU, as in benchdnn.</summary>
    public static bool TryParse(string name, float alpha, out Activation activation)
    {
        activation = name.ToLowerInvariant() switch
        {
            "linear" => Activation.None,
            "relu" or "eltwise_relu" => alpha == 0f ? Activation.Relu : Activation.LeakyRelu,
            "tanh" or "eltwise_tanh" => Activation.Tanh,
            "logistic" or "sigmoid" or "eltwise_logistic" => Activation.Sigmoid,
            _ => (Activation)(-1),
        };
        return activation >= 0;
    }
}
