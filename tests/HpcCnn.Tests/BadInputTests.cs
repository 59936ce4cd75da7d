using HpcCnn.Cpu;
using HpcCnn.Interop;

namespace HpcCnn.Tests;

/// <summary>Every argument rule, checked in C# first; the native second line of defence is tested through the bindings and in native/tests.</summary>
public class BadInputTests
{
    internal static readonly ConvProblem Valid = ConvProblem.Parse("mb2ic4ih6oc3kh3ph1");

    public static IEnumerable<object[]> Backends() => [[Backend.Reference], [TestBackends.Cpu.Value]];

    public static readonly TheoryData<string, int, string> BadSizes = new()
    {
        { nameof(ConvProblem.Batch), 0, "must be positive" },
        { nameof(ConvProblem.InChannels), -1, "must be positive" },
        { nameof(ConvProblem.InHeight), 0, "must be positive" },
        { nameof(ConvProblem.InWidth), -5, "must be positive" },
        { nameof(ConvProblem.OutChannels), 0, "must be positive" },
        { nameof(ConvProblem.KernelHeight), 0, "must be positive" },
        { nameof(ConvProblem.KernelWidth), -2, "must be positive" },
        { nameof(ConvProblem.StrideHeight), 0, "must be positive" },
        { nameof(ConvProblem.StrideWidth), -1, "must be positive" },
        { nameof(ConvProblem.PadTop), -1, "must be non-negative" },
        { nameof(ConvProblem.PadBottom), -2, "must be non-negative" },
        { nameof(ConvProblem.PadLeft), int.MinValue, "must be non-negative" },
        { nameof(ConvProblem.PadRight), -1, "must be non-negative" },
        { nameof(ConvProblem.DilationHeight), 0, "must be positive" },
        { nameof(ConvProblem.DilationWidth), -3, "must be positive" },
        { nameof(ConvProblem.Groups), 0, "must be positive" },
        { nameof(ConvProblem.Groups), 3, "must divide InChannels" },
        { nameof(ConvProblem.KernelHeight), 9, "spans more than the padded input height" },
        { nameof(ConvProblem.KernelWidth), 9, "spans more than the padded input width" },
        { nameof(ConvProblem.InChannels), int.MaxValue, "more than a span can hold" },
    };

    [Theory]
    [MemberData(nameof(BadSizes))]
    public void Invalid_convolution_names_the_property(string property, int value, string rule)
    {
        var problem = With(Valid, property, value);
        foreach (var backend in new[] { Backend.Reference, TestBackends.Cpu.Value })
        {
            var error = Assert.ThrowsAny<ArgumentException>(() => backend.CreateConvPlan(problem, new float[1000], new float[3]));
            Assert.Equal(property == nameof(ConvProblem.InChannels) && value == int.MaxValue ? "InputLength" : property, error.ParamName);
            Assert.Contains(rule, error.Message);
        }
    }

    [Fact]
    public void Groups_must_divide_output_channels()
    {
        var problem = Valid with { InChannels = 4, OutChannels = 3, Groups = 2 };
        var error = Assert.Throws<ArgumentException>(() => TestBackends.Cpu.Value.CreateConvPlan(problem, new float[100]));
        Assert.Equal("Groups", error.ParamName);
        Assert.Contains("must divide OutChannels", error.Message);
    }

    [Fact]
    public void Invalid_activation_is_rejected()
    {
        var cpu = TestBackends.Cpu.Value;
        var unknown = Assert.Throws<ArgumentOutOfRangeException>(() => cpu.CreateConvPlan(Valid with { Activation = (Activation)9 }, new float[108]));
        Assert.Equal("Activation", unknown.ParamName);
        var nan = Assert.Throws<ArgumentOutOfRangeException>(() =>
            cpu.CreateConvPlan(Valid with { Activation = Activation.LeakyRelu, ActivationAlpha = float.NaN }, new float[108]));
        Assert.Equal("ActivationAlpha", nan.ParamName);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Short_weights_and_bias_are_rejected(Backend backend)
    {
        Assert.Equal(108, Valid.WeightsLength);
        var weights = Assert.Throws<ArgumentException>(() => backend.CreateConvPlan(Valid, new float[107]));
        Assert.Equal("weights", weights.ParamName);
        Assert.Contains("holds 107 elements but the problem needs at least 108", weights.Message);
        var bias = Assert.Throws<ArgumentException>(() => backend.CreateConvPlan(Valid, new float[108], new float[2]));
        Assert.Equal("bias", bias.ParamName);
        Assert.Throws<ArgumentNullException>(() => backend.CreateConvPlan(null!, new float[108]));
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Short_and_overlapping_run_spans_are_rejected(Backend backend)
    {
        using var plan = backend.CreateConvPlan(Valid, new float[108]);
        Assert.Equal((288, 216), (Valid.InputLength, Valid.OutputLength));
        var input = Assert.Throws<ArgumentException>(() => plan.Run(new float[287], new float[216]));
        Assert.Equal("input", input.ParamName);
        var output = Assert.Throws<ArgumentException>(() => plan.Run(new float[288], new float[215]));
        Assert.Equal("output", output.ParamName);
        var shared = new float[600];
        var overlap = Assert.Throws<ArgumentException>(() => plan.Run(shared.AsSpan(0, 288), shared.AsSpan(100, 216)));
        Assert.Contains("must not overlap", overlap.Message);
        plan.Run(shared.AsSpan(0, 288), shared.AsSpan(288, 216)); // adjacent is fine
        plan.Run(new float[300], new float[300]);                 // longer spans are fine
    }

    [Theory]
    [InlineData("PadTop", 3, "must be smaller than KernelHeight")]
    [InlineData("PadBottom", 4, "must be smaller than KernelHeight")]
    [InlineData("PadLeft", 3, "must be smaller than KernelWidth")]
    [InlineData("PadRight", 3, "must be smaller than KernelWidth")]
    [InlineData("PadRight", -1, "must be non-negative")]
    [InlineData("Channels", 0, "must be positive")]
    [InlineData("StrideWidth", 0, "must be positive")]
    [InlineData("KernelHeight", 12, "larger than the padded input height")]
    [InlineData("Algorithm", 7, "unknown pooling algorithm")]
    public void Invalid_pooling_names_the_property(string property, int value, string rule)
    {
        var problem = With(PoolProblem.Parse("--alg=max mb1ic3ih8kh3sh2ph1"), property, value);
        foreach (var backend in new[] { Backend.Reference, TestBackends.Cpu.Value })
        {
            var error = Assert.ThrowsAny<ArgumentException>(() => backend.CreatePoolPlan(problem));
            Assert.Equal(property, error.ParamName);
            Assert.Contains(rule, error.Message);
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Pool_run_spans_are_checked(Backend backend)
    {
        using var plan = backend.CreatePoolPlan(PoolProblem.Parse("--alg=max mb1ic3ih8kh2sh2"));
        Assert.Equal("input", Assert.Throws<ArgumentException>(() => plan.Run(new float[191], new float[48])).ParamName);
        Assert.Equal("output", Assert.Throws<ArgumentException>(() => plan.Run(new float[192], new float[47])).ParamName);
        var shared = new float[300];
        Assert.Throws<ArgumentException>(() => plan.Run(shared.AsSpan(0, 192), shared.AsSpan(191, 48)));
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Eltwise_arguments_are_checked(Backend backend)
    {
        var data = new float[10];
        Assert.Equal("output", Assert.Throws<ArgumentException>(() => backend.Eltwise(Activation.Relu, data, new float[9])).ParamName);
        var overlap = Assert.Throws<ArgumentException>(() => backend.Eltwise(Activation.Relu, data.AsSpan(0, 5), data.AsSpan(1, 5)));
        Assert.Contains("same span or not overlap", overlap.Message);
        Assert.Equal("activation", Assert.Throws<ArgumentOutOfRangeException>(() => backend.Eltwise((Activation)99, data, data)).ParamName);
        Assert.Equal("alpha", Assert.Throws<ArgumentOutOfRangeException>(() => backend.Eltwise(Activation.LeakyRelu, data, data, float.PositiveInfinity)).ParamName);
        backend.Eltwise(Activation.Relu, data, data);                 // in place is fine
        backend.Eltwise(Activation.Relu, ReadOnlySpan<float>.Empty, Span<float>.Empty);
    }

    [Fact]
    public void Negative_thread_count_is_rejected() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new CpuBackend(new CpuBackendOptions { Threads = -1 }));

    /// <summary>Bypasses the C# checks: the native library must still refuse, with a message naming the parameter.</summary>
    [Fact]
    public unsafe void Native_library_rejects_what_slips_past_managed_checks()
    {
        TestBackends.Cpu.Value.ToString(); // loads the library
        var desc = Cpu.NativeDescriptors.Conv(Valid);
        desc.groups = 5;
        var weights = new float[108];
        fixed (float* w = weights)
        {
            var forward = hc_direction.HC_DIRECTION_FORWARD_INFERENCE;
            var status = NativeMethods.hc_conv2d_create(&desc, forward, w, weights.Length, null, 0, null, out var handle);
            Assert.Equal(hc_status.HC_STATUS_INVALID_ARGUMENT, status);
            Assert.True(handle.IsInvalid);
            var error = Assert.Throws<HpcCnnArgumentException>(() => NativeStatus.Check(status, "hc_conv2d_create"));
            Assert.Contains("desc->groups (5) must divide desc->in_channels (4)", error.Message);
            Assert.Equal(HpcCnnStatus.InvalidArgument, error.Status);
            Assert.IsType<HpcCnnOutOfMemoryException>(NativeStatusException(hc_status.HC_STATUS_OUT_OF_MEMORY));
            Assert.IsType<HpcCnnUnsupportedException>(NativeStatusException(hc_status.HC_STATUS_UNSUPPORTED));
            Assert.Equal(HpcCnnStatus.Internal, Assert.IsType<HpcCnnException>(NativeStatusException(hc_status.HC_STATUS_INTERNAL)).Status);

            desc = Cpu.NativeDescriptors.Conv(Valid);
            status = NativeMethods.hc_conv2d_create(&desc, forward, w, weights.Length, null, 0, null, out handle);
            Assert.Equal(hc_status.HC_STATUS_OK, status);
            using (handle)
            {
                var input = new float[288];
                var output = new float[216];
                fixed (float* x = input)
                fixed (float* y = output)
                {
                    hc_arg* args = stackalloc hc_arg[2];
                    args[0] = new hc_arg { kind = hc_arg_kind.HC_ARG_SRC, data = x, length = 287 };
                    args[1] = new hc_arg { kind = hc_arg_kind.HC_ARG_DST, data = y, length = 216 };
                    Assert.Equal(hc_status.HC_STATUS_INVALID_ARGUMENT, NativeMethods.hc_plan_execute(handle, args, 2));
                    Assert.Contains("SRC holds 287 elements", NativeStatus.Utf8(NativeMethods.hc_last_error()));
                    args[0].length = 288;
                    args[1].data = x;
                    Assert.Equal(hc_status.HC_STATUS_INVALID_ARGUMENT, NativeMethods.hc_plan_execute(handle, args, 2));
                    Assert.Contains("overlap", NativeStatus.Utf8(NativeMethods.hc_last_error()));
                    args[1].data = y;
                    Assert.Equal(hc_status.HC_STATUS_OK, NativeMethods.hc_plan_execute(handle, args, 2));
                    Assert.Equal("", NativeStatus.Utf8(NativeMethods.hc_last_error()));
                }
            }
        }
    }

    internal static T With<T>(T problem, string property, int value) where T : Problem
    {
        var copy = (T)problem.GetType().GetMethod("<Clone>$")!.Invoke(problem, null)!;
        var info = typeof(T).GetProperty(property)!;
        info.SetValue(copy, info.PropertyType.IsEnum ? Enum.ToObject(info.PropertyType, value) : value);
        return copy;
    }

    /// <summary>What <see cref="NativeStatus.Check"/> throws for a status: each failure is an HpcCnnException carrying it.</summary>
    private static Exception NativeStatusException(hc_status status) =>
        Assert.ThrowsAny<Exception>(() => NativeStatus.Check(status, "call"));
}
