using HpcCnn.Interop;
using HpcCnn.Problems;

namespace HpcCnn.Cpu;

/// <summary>
/// One native plan (<c>hc_plan*</c>): what the Cpu backend's plans of every operation share —
/// creation status, the chosen algorithm, execution with buffers by role, new weights, release.
/// </summary>
internal sealed unsafe class NativePlan : IDisposable
{
    private readonly hc_plan_handle handle;

    /// <summary>Takes ownership of a handle a create call returned, or throws the call's error (releasing the handle).</summary>
    public NativePlan(hc_status status, hc_plan_handle handle, string function)
    {
        if (status != hc_status.HC_STATUS_OK)
        {
            handle.Dispose();
            NativeStatus.Check(status, function);
        }
        this.handle = handle;
        hc_plan_info info;
        NativeStatus.Check(NativeMethods.hc_plan_get_info(handle, &info), nameof(NativeMethods.hc_plan_get_info));
        Algorithm = NativeStatus.Utf8(info.algorithm);
        Isa = NativeStatus.Utf8(info.isa);
    }

    public string Algorithm { get; }
    public string Isa { get; }

    /// <summary>The C API's direction of a problem's direction.</summary>
    public static hc_direction Direction(Direction direction) => direction switch
    {
        Problems.Direction.ForwardInference => hc_direction.HC_DIRECTION_FORWARD_INFERENCE,
        Problems.Direction.ForwardTraining => hc_direction.HC_DIRECTION_FORWARD_TRAINING,
        Problems.Direction.BackwardData => hc_direction.HC_DIRECTION_BACKWARD_DATA,
        Problems.Direction.BackwardWeights or Problems.Direction.BackwardWeightsAndBias => hc_direction.HC_DIRECTION_BACKWARD_WEIGHTS,
        _ => throw new ArgumentOutOfRangeException(nameof(direction), direction, "unknown direction"),
    };

    /// <summary>Runs the plan on buffers given by role (pointers pinned by the caller for the call's duration).</summary>
    public void Execute(ReadOnlySpan<hc_arg> args)
    {
        fixed (hc_arg* a = args)
            NativeStatus.Check(NativeMethods.hc_plan_execute(handle, a, args.Length), nameof(NativeMethods.hc_plan_execute));
    }

    public void SetWeights(ReadOnlySpan<float> weights, ReadOnlySpan<float> bias)
    {
        fixed (float* w = weights)
        fixed (float* b = bias)
            NativeStatus.Check(NativeMethods.hc_plan_set_weights(handle, w, weights.Length, b, bias.Length), nameof(NativeMethods.hc_plan_set_weights));
    }

    public static hc_arg Arg(hc_arg_kind kind, void* data, long length) => new() { kind = kind, data = data, length = length };

    /// <summary>SRC → DST.</summary>
    public void Forward(ReadOnlySpan<float> input, Span<float> output)
    {
        fixed (float* x = input, y = output)
            Execute([Arg(hc_arg_kind.HC_ARG_SRC, x, input.Length), Arg(hc_arg_kind.HC_ARG_DST, y, output.Length)]);
    }

    /// <summary>DIFF_DST (and DST, the forward output, when not empty) → DIFF_SRC.</summary>
    public void BackwardData(ReadOnlySpan<float> diffOutput, ReadOnlySpan<float> output, Span<float> diffInput)
    {
        fixed (float* dy = diffOutput, y = output, dx = diffInput)
        {
            Span<hc_arg> args =
            [
                Arg(hc_arg_kind.HC_ARG_DIFF_DST, dy, diffOutput.Length),
                Arg(hc_arg_kind.HC_ARG_DIFF_SRC, dx, diffInput.Length),
                Arg(hc_arg_kind.HC_ARG_DST, y, output.Length),
            ];
            Execute(output.IsEmpty ? args[..2] : args);
        }
    }

    /// <summary>SRC, DIFF_DST (and DST when not empty) → DIFF_WEIGHTS (and DIFF_BIAS when not empty).</summary>
    public void BackwardWeights(ReadOnlySpan<float> input, ReadOnlySpan<float> diffOutput, ReadOnlySpan<float> output,
        Span<float> diffWeights, Span<float> diffBias)
    {
        fixed (float* x = input, dy = diffOutput, y = output, dw = diffWeights, db = diffBias)
        {
            Span<hc_arg> args = stackalloc hc_arg[5];
            int count = 0;
            args[count++] = Arg(hc_arg_kind.HC_ARG_SRC, x, input.Length);
            args[count++] = Arg(hc_arg_kind.HC_ARG_DIFF_DST, dy, diffOutput.Length);
            args[count++] = Arg(hc_arg_kind.HC_ARG_DIFF_WEIGHTS, dw, diffWeights.Length);
            if (!output.IsEmpty) args[count++] = Arg(hc_arg_kind.HC_ARG_DST, y, output.Length);
            if (!diffBias.IsEmpty) args[count++] = Arg(hc_arg_kind.HC_ARG_DIFF_BIAS, db, diffBias.Length);
            Execute(args[..count]);
        }
    }

    public void Dispose() => handle.Dispose();
}
