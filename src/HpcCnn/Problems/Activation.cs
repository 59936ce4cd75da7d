namespace HpcCnn.Problems;

/// <summary>Activation fused into a convolution's epilogue.</summary>
public enum Activation
{
    /// <summary>y = x.</summary>
    None,
    /// <summary>y = max(x, 0).</summary>
    Relu,
    /// <summary>y = x for x &gt; 0, alpha·x otherwise.</summary>
    LeakyRelu,
}

/// <summary>Elementwise operations.</summary>
public enum EltwiseOp
{
    /// <summary>y = max(x, 0).</summary>
    Relu,
    /// <summary>y = x for x &gt; 0, alpha·x otherwise.</summary>
    LeakyRelu,
    /// <summary>y = tanh(x).</summary>
    Tanh,
    /// <summary>y = 1 / (1 + exp(−x)).</summary>
    Sigmoid,
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
