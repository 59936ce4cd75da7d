using System.Runtime.InteropServices;
using HpcCnn.Problems;

namespace HpcCnn.OpenCl;

/// <summary>
/// Softmax cross-entropy on an OpenCL device (softmax.cl): one work-item per row for the
/// probabilities and the rows' losses, one more adding the losses in row order; backward one
/// work-item per element.
/// </summary>
internal sealed class OpenClSoftmaxPlan : SoftmaxPlan
{
    private const int CpuGroupSize = 64;

    private readonly PlanRunner runner;
    private readonly ClHandle? forward, forwardLoss, meanLoss, backward, rowLoss, rowsLocal;
    private const int LocalGroup = 256; // SOFTMAX_GROUP in softmax.cl

    public OpenClSoftmaxPlan(OpenClDevice device, SoftmaxProblem problem) : base(problem)
    {
        runner = new PlanRunner(device);
        try
        {
            var program = device.Program("softmax", "");
            if (problem.Direction == Direction.BackwardData)
            {
                backward = runner.Own(device.CreateKernel(program, "softmax_cross_entropy_backward"));
                Algorithm = "softmax_cross_entropy_backward_ocl";
            }
            else
            {
                forward = runner.Own(device.CreateKernel(program, "softmax_forward"));
                // A GPU gets a work-group per row, where the device and the build allow groups of 256.
                if (device.GpuStyle && device.Info.MaxWorkGroupSize >= LocalGroup)
                {
                    rowsLocal = runner.Own(device.CreateKernel(program, "softmax_rows_local"));
                    if (device.KernelWorkGroupLimit(rowsLocal) < LocalGroup) rowsLocal = null;
                }
                if (problem.Direction == Direction.ForwardTraining)
                {
                    forwardLoss = runner.Own(device.CreateKernel(program, "softmax_forward_loss"));
                    meanLoss = runner.Own(device.CreateKernel(program, "mean_loss"));
                    rowLoss = runner.Own(device.CreateBuffer(problem.Batch));
                }
                Algorithm = rowsLocal is null ? "softmax_ocl" : "softmax_rows_local_ocl";
            }
        }
        catch
        {
            runner.Dispose();
            throw;
        }
    }

    public override string Algorithm { get; }
    public override string Isa => "opencl";

    private OpenClDevice Device => runner.Device;

    private protected override float ForwardCore(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, Span<float> probabilities)
    {
        using (runner.Lock())
        {
            var x = runner.StageIn(0, logits)!;
            var p = runner.StageOut(1, probabilities)!;
            if (labels.IsEmpty)
            {
                LaunchForward(x, p, null, null);
                runner.Read(p, probabilities);
                return float.NaN;
            }
            var l = runner.StageIn(2, MemoryMarshal.Cast<int, float>(labels))!;
            var loss = runner.Staging(3, 1);
            LaunchForward(x, p, l, loss);
            runner.Read(p, probabilities);
            Span<float> value = stackalloc float[1];
            runner.Read(loss, value);
            return value[0];
        }
    }

    private protected override void ForwardCore(DeviceBuffer logits, DeviceBuffer? labels, DeviceBuffer probabilities, DeviceBuffer? loss)
    {
        using (runner.Lock())
            LaunchForward(runner.Buffer(logits, nameof(logits)), runner.Buffer(probabilities, nameof(probabilities)),
                runner.BufferOrNull(labels, nameof(labels)), runner.BufferOrNull(loss, nameof(loss)));
    }

    private protected override void BackwardCore(ReadOnlySpan<float> probabilities, ReadOnlySpan<int> labels, Span<float> diffLogits)
    {
        using (runner.Lock())
        {
            var dx = runner.StageOut(2, diffLogits)!;
            LaunchBackward(runner.StageIn(0, probabilities)!, runner.StageIn(1, MemoryMarshal.Cast<int, float>(labels))!, dx);
            runner.Read(dx, diffLogits);
        }
    }

    private protected override void BackwardCore(DeviceBuffer probabilities, DeviceBuffer labels, DeviceBuffer diffLogits)
    {
        using (runner.Lock())
            LaunchBackward(runner.Buffer(probabilities, nameof(probabilities)), runner.Buffer(labels, nameof(labels)),
                runner.Buffer(diffLogits, nameof(diffLogits)));
    }

    /// <summary>Queues the forward pass; call under the lock.</summary>
    private void LaunchForward(ClHandle x, ClHandle p, ClHandle? labels, ClHandle? loss)
    {
        long batch = Problem.Batch, classes = Problem.Classes;
        if (rowsLocal is not null)
        {
            // Without a loss the label and row-loss arguments are not read; any buffer will do.
            SetArguments(rowsLocal, x, p, labels ?? x, rowLoss ?? p);
            Device.SetArgument(rowsLocal, 4, classes);
            Device.SetArgument(rowsLocal, 5, labels is null ? 0 : 1);
            Device.Launch(rowsLocal, batch * LocalGroup, LocalGroup);
            if (labels is null) return;
            SetArguments(meanLoss!, rowLoss!, loss!);
            Device.SetArgument(meanLoss!, 2, batch);
            Device.Launch(meanLoss!, 1, 1);
            return;
        }
        if (labels is null)
        {
            SetArguments(forward!, x, p);
            Device.SetArgument(forward!, 2, batch);
            Device.SetArgument(forward!, 3, classes);
            Device.Launch(forward!, batch, Device.WorkGroupSize(forward!, CpuGroupSize));
            return;
        }
        SetArguments(forwardLoss!, x, labels, p, rowLoss!);
        Device.SetArgument(forwardLoss!, 4, batch);
        Device.SetArgument(forwardLoss!, 5, classes);
        Device.Launch(forwardLoss!, batch, Device.WorkGroupSize(forwardLoss!, CpuGroupSize));
        SetArguments(meanLoss!, rowLoss!, loss!);
        Device.SetArgument(meanLoss!, 2, batch);
        Device.Launch(meanLoss!, 1, 1);
    }

    private void LaunchBackward(ClHandle p, ClHandle labels, ClHandle dx)
    {
        SetArguments(backward!, p, labels, dx);
        Device.SetArgument(backward!, 3, (long)Problem.Batch);
        Device.SetArgument(backward!, 4, (long)Problem.Classes);
        Device.Launch(backward!, Problem.InputLength, Device.WorkGroupSize(backward!, CpuGroupSize));
    }

    private void SetArguments(ClHandle kernel, params ReadOnlySpan<ClHandle> buffers)
    {
        for (int i = 0; i < buffers.Length; i++) Device.SetArgument(kernel, (uint)i, buffers[i]);
    }

    private protected override void ReleaseResources() => runner.Dispose();
}
