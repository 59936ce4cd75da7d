namespace HpcCnn.Verification;

/// <summary>
/// The one tolerance rule: |y − y_ref| ≤ Absolute + Relative · Σ|terms|, where Σ|terms| is the sum
/// of magnitudes of the products reduced into that output (Σ|x·w| + |b| for a convolution). The
/// bound comes from the reduction, not from |y_ref|, which can cancel to 0 while the rounding
/// error does not.
/// </summary>
/// <remarks>
/// Relative = 1e-5 is about 80 float32 ulps of the reduction's magnitude: generous for any
/// summation order over the reductions in the suites (≤ 10⁴ terms, error ~ √n·ulp), tight enough
/// to catch a dropped or doubled tap. Absolute = 1e-6 covers transcendental activations, whose
/// output error does not scale with an input sum.
/// </remarks>
public readonly record struct Tolerance(double Absolute, double Relative)
{
    public static Tolerance Default { get; } = new(1e-6, 1e-5);

    /// <summary>The largest accepted |y − y_ref| for an output whose reduction has magnitude <paramref name="magnitude"/>.</summary>
    public double Bound(double magnitude) => Absolute + Relative * magnitude;

    public bool Accepts(float actual, double expected, double magnitude) =>
        Math.Abs(actual - expected) <= Bound(magnitude); // false for NaN
}
