using HpcCnn.Cpu;
using HpcCnn.Interop;

namespace HpcCnn.Tests;

/// <summary>
/// C# and C check the same rules twice, and C# always refuses first, so these tests hand the same
/// seeded random descriptors, valid and invalid (zero, negative, non-dividing groups, kernels larger
/// than the padded input, padding past the kernel, unknown enums, NaN or negative slopes, directions
/// an operation lacks), to <c>Validate()</c> and straight to the native create function, and require
/// the two to accept and refuse alike.
/// </summary>
public unsafe class ValidationParityTests
{
    private const int Cases = 600;

    /// <summary>Mostly a value in [low, high], now and then (1 in 40) one of the edge values that break a rule.</summary>
    private static int Draw(Random random, int low, int high) =>
        random.Next(40) switch { 0 => 0, 1 => -1, 2 => -random.Next(2, 9), _ => random.Next(low, high + 1) };

    private static Direction AnyDirection(Random random) => (Direction)random.Next(5);

    private static (Activation Activation, float Alpha) AnyActivation(Random random)
    {
        var activation = random.Next(30) == 0 ? (Activation)random.Next(5, 9) : (Activation)random.Next(5);
        float alpha = random.Next(12) switch { 0 => float.NaN, 1 => -0.25f, 2 => float.PositiveInfinity, _ => 0.1f };
        return (activation, alpha);
    }

    private static hc_direction Native(Direction direction) => NativePlan.Direction(direction);

    /// <summary>Both sides' verdicts on one problem, with the reasons when they disagree; true when both accept.</summary>
    private static bool AssertParity(Problem problem, Func<(hc_status Status, string Error)> native)
    {
        string? managedError = null;
        try
        {
            problem.Validate();
        }
        catch (ArgumentException e)
        {
            managedError = e.Message;
        }
        TestBackends.Cpu.Value.ToString(); // the library is loaded
        var (status, nativeError) = native();
        Assert.True(status is hc_status.HC_STATUS_OK or hc_status.HC_STATUS_INVALID_ARGUMENT, $"{Describe(problem)}: native status {status}: {nativeError}");
        Assert.True((managedError is null) == (status == hc_status.HC_STATUS_OK),
            $"{Describe(problem)}: C# says {managedError ?? "valid"}, C says {(status == hc_status.HC_STATUS_OK ? "valid" : nativeError)}");
        return managedError is null;
    }

    /// <summary>A fair test needs both verdicts often.</summary>
    private static void AssertMixed(int accepted, int total, string what) =>
        Assert.True(accepted >= total / 20 && accepted <= total * 19 / 20, $"{what}: {accepted} of {total} random descriptors were valid");

    private static string Describe(Problem problem)
    {
        try
        {
            return $"{problem.GetType().Name} {problem}";
        }
        catch (Exception)
        {
            return problem.GetType().Name;
        }
    }

    private static (hc_status, string) Created(hc_status status, hc_plan_handle handle)
    {
        string error = NativeStatus.Utf8(NativeMethods.hc_last_error());
        handle.Dispose();
        return (status, error);
    }

    [Fact]
    public void Convolution_rules_agree()
    {
        var random = new Random(101);
        int accepted = 0;
        for (int i = 0; i < Cases; i++)
        {
            var (activation, alpha) = AnyActivation(random);
            int groups = Draw(random, 1, 3);
            // Channels mostly a multiple of the groups, now and then not.
            int Channels() => random.Next(8) == 0 ? Draw(random, 1, 8) : Math.Max(groups, 1) * random.Next(1, 4);
            var p = new ConvProblem
            {
                Batch = Draw(random, 1, 3), InChannels = Channels(), InHeight = Draw(random, 1, 12), InWidth = Draw(random, 1, 12),
                OutChannels = Channels(), KernelHeight = Draw(random, 1, 5), KernelWidth = Draw(random, 1, 5),
                StrideHeight = Draw(random, 1, 3), StrideWidth = Draw(random, 1, 3), PadTop = Draw(random, 0, 3), PadBottom = Draw(random, 0, 3),
                PadLeft = Draw(random, 0, 3), PadRight = Draw(random, 0, 3), DilationHeight = Draw(random, 1, 3), DilationWidth = Draw(random, 1, 3),
                Groups = groups, Activation = activation, ActivationAlpha = alpha, Direction = AnyDirection(random),
            };
            if (AssertParity(p, () =>
            {
                var desc = NativeDescriptors.Conv(p with { Activation = Activation.None });
                desc.activation = (hc_activation)(int)p.Activation;
                var status = NativeMethods.hc_conv2d_create(&desc, Native(p.Direction), null, 0, null, 0, null, out var handle);
                return Created(status, handle);
            })) accepted++;
        }
        AssertMixed(accepted, Cases, "convolution");
    }

    [Fact]
    public void Pooling_rules_agree()
    {
        var random = new Random(102);
        int accepted = 0;
        for (int i = 0; i < Cases; i++)
        {
            var p = new PoolProblem
            {
                Algorithm = (PoolAlgorithm)(random.Next(15) == 0 ? 5 : random.Next(3)),
                Batch = Draw(random, 1, 3), Channels = Draw(random, 1, 6), InHeight = Draw(random, 1, 10), InWidth = Draw(random, 1, 10),
                KernelHeight = Draw(random, 1, 4), KernelWidth = Draw(random, 1, 4), StrideHeight = Draw(random, 1, 3), StrideWidth = Draw(random, 1, 3),
                PadTop = Draw(random, 0, 3), PadBottom = Draw(random, 0, 3), PadLeft = Draw(random, 0, 3), PadRight = Draw(random, 0, 3),
                Direction = AnyDirection(random),
            };
            if (AssertParity(p, () =>
            {
                var desc = NativeDescriptors.Pool(p with { Algorithm = PoolAlgorithm.Max });
                desc.algorithm = (hc_pool_algorithm)(int)p.Algorithm;
                var status = NativeMethods.hc_pool2d_create(&desc, Native(p.Direction), null, out var handle);
                return Created(status, handle);
            })) accepted++;
        }
        AssertMixed(accepted, Cases, "pooling");
    }

    [Fact]
    public void Dense_rules_agree()
    {
        var random = new Random(103);
        int accepted = 0;
        for (int i = 0; i < Cases; i++)
        {
            var (activation, alpha) = AnyActivation(random);
            var p = new DenseProblem
            {
                Batch = Draw(random, 1, 9), InChannels = Draw(random, 1, 50), InHeight = random.Next(8) == 0 ? Draw(random, 1, 4) : 1, InWidth = 1,
                OutChannels = Draw(random, 1, 30), Activation = activation, ActivationAlpha = alpha, Direction = AnyDirection(random),
            };
            if (AssertParity(p, () =>
            {
                // Sizes below 1 make the product of C, H and W meaningless: the C API sees the features the C# layer would flatten.
                var desc = new hc_dense_desc
                {
                    batch = p.Batch, in_features = p.InChannels <= 0 || p.InHeight <= 0 || p.InWidth <= 0 ? Math.Min(Math.Min(p.InChannels, p.InHeight), p.InWidth) : p.InFeatures,
                    out_features = p.OutChannels, activation = (hc_activation)(int)p.Activation, activation_alpha = p.ActivationAlpha,
                };
                var status = NativeMethods.hc_dense_create(&desc, Native(p.Direction), null, 0, null, 0, null, out var handle);
                return Created(status, handle);
            })) accepted++;
        }
        AssertMixed(accepted, Cases, "dense");
    }

    [Fact]
    public void Eltwise_and_softmax_rules_agree()
    {
        var random = new Random(104);
        int accepted = 0;
        for (int i = 0; i < Cases; i++)
        {
            var (activation, alpha) = AnyActivation(random);
            var eltwise = new EltwiseProblem { Activation = activation, Alpha = alpha, Length = Draw(random, 0, 1000), Direction = AnyDirection(random) };
            if (AssertParity(eltwise, () =>
            {
                var desc = new hc_eltwise_desc { activation = (hc_activation)(int)eltwise.Activation, alpha = eltwise.Alpha, length = eltwise.Length };
                var status = NativeMethods.hc_eltwise_create(&desc, Native(eltwise.Direction), null, out var handle);
                return Created(status, handle);
            })) accepted++;
            var softmax = new SoftmaxProblem { Batch = Draw(random, 1, 100), Classes = Draw(random, 1, 20), Direction = AnyDirection(random) };
            if (AssertParity(softmax, () =>
            {
                var desc = NativeDescriptors.Softmax(softmax);
                var status = NativeMethods.hc_softmax_create(&desc, Native(softmax.Direction), null, out var handle);
                return Created(status, handle);
            })) accepted++;
        }
        AssertMixed(accepted, 2 * Cases, "eltwise and softmax");
    }
}
