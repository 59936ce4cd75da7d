using HpcCnn.Training;

namespace HpcCnn.OpenCl;

/// <summary>
/// Dropout and the optimizers on an OpenCL device (training.cl): one launch each, on device
/// buffers, or on spans through staging buffers. One instance per backend; its lock keeps a
/// call's argument setting and launch together.
/// </summary>
internal sealed class OpenClTraining : IDisposable
{
    private const int CpuGroupSize = 64;

    private readonly PlanRunner runner;
    private readonly ClHandle dropout, sgd, sgdMomentum, adam;

    public OpenClTraining(OpenClDevice device)
    {
        runner = new PlanRunner(device);
        try
        {
            var program = device.Program("training", "");
            dropout = runner.Own(device.CreateKernel(program, "dropout"));
            sgd = runner.Own(device.CreateKernel(program, "sgd"));
            sgdMomentum = runner.Own(device.CreateKernel(program, "sgd_momentum"));
            adam = runner.Own(device.CreateKernel(program, "adam"));
        }
        catch
        {
            runner.Dispose();
            throw;
        }
    }

    private OpenClDevice Device => runner.Device;

    public void Dropout(DropoutMask d, long step, ReadOnlySpan<float> input, Span<float> output)
    {
        using (runner.Lock())
        {
            var x = runner.StageIn(0, input);
            if (x is null) return;
            LaunchDropout(d, step, x, x, input.Length);
            runner.Read(x, output);
        }
    }

    public void Dropout(DropoutMask d, long step, DeviceBuffer input, DeviceBuffer output, long length)
    {
        using (runner.Lock()) LaunchDropout(d, step, runner.Buffer(input, nameof(input)), runner.Buffer(output, nameof(output)), length);
    }

    public void Sgd(Sgd s, Span<float> weights, ReadOnlySpan<float> gradients, Span<float> velocity)
    {
        using (runner.Lock())
        {
            var w = runner.StageIn(0, weights);
            if (w is null) return;
            var g = runner.StageIn(1, gradients)!;
            var v = runner.StageIn(2, velocity);
            LaunchSgd(s, w, g, v, weights.Length);
            runner.Read(w, weights);
            runner.Read(v, velocity);
        }
    }

    public void Sgd(Sgd s, DeviceBuffer weights, DeviceBuffer gradients, DeviceBuffer? velocity, long length)
    {
        using (runner.Lock())
            LaunchSgd(s, runner.Buffer(weights, nameof(weights)), runner.Buffer(gradients, nameof(gradients)),
                velocity is null ? null : runner.Buffer(velocity, nameof(velocity)), length);
    }

    public void Adam(Adam a, long step, Span<float> weights, ReadOnlySpan<float> gradients, Span<float> firstMoment, Span<float> secondMoment)
    {
        using (runner.Lock())
        {
            var w = runner.StageIn(0, weights);
            if (w is null) return;
            var (g, m, v) = (runner.StageIn(1, gradients)!, runner.StageIn(2, firstMoment)!, runner.StageIn(3, secondMoment)!);
            LaunchAdam(a, step, w, g, m, v, weights.Length);
            runner.Read(w, weights);
            runner.Read(m, firstMoment);
            runner.Read(v, secondMoment);
        }
    }

    public void Adam(Adam a, long step, DeviceBuffer weights, DeviceBuffer gradients, DeviceBuffer firstMoment, DeviceBuffer secondMoment, long length)
    {
        using (runner.Lock())
            LaunchAdam(a, step, runner.Buffer(weights, nameof(weights)), runner.Buffer(gradients, nameof(gradients)),
                runner.Buffer(firstMoment, nameof(firstMoment)), runner.Buffer(secondMoment, nameof(secondMoment)), length);
    }

    private void LaunchDropout(DropoutMask d, long step, ClHandle x, ClHandle y, long length)
    {
        if (length == 0) return;
        Device.SetArgument(dropout, 0, x);
        Device.SetArgument(dropout, 1, y);
        Device.SetArgument(dropout, 2, length);
        Device.SetArgument(dropout, 3, d.Rate);
        Device.SetArgument(dropout, 4, d.Scale);
        Device.SetArgument(dropout, 5, d.Seed);
        Device.SetArgument(dropout, 6, (ulong)step);
        Device.Launch(dropout, (length + 3) / 4, Device.WorkGroupSize(dropout, CpuGroupSize));
    }

    private void LaunchSgd(Sgd s, ClHandle w, ClHandle g, ClHandle? v, long length)
    {
        if (length == 0) return;
        var kernel = v is null ? sgd : sgdMomentum;
        uint next = 0;
        Device.SetArgument(kernel, next++, w);
        Device.SetArgument(kernel, next++, g);
        if (v is not null) Device.SetArgument(kernel, next++, v);
        Device.SetArgument(kernel, next++, length);
        Device.SetArgument(kernel, next++, s.LearningRate);
        if (v is not null) Device.SetArgument(kernel, next++, s.Momentum);
        Device.SetArgument(kernel, next++, s.WeightDecay);
        if (v is not null) Device.SetArgument(kernel, next, s.Nesterov ? 1 : 0);
        Device.Launch(kernel, length, Device.WorkGroupSize(kernel, CpuGroupSize));
    }

    private void LaunchAdam(Adam a, long step, ClHandle w, ClHandle g, ClHandle m, ClHandle v, long length)
    {
        if (length == 0) return;
        uint next = 0;
        foreach (var buffer in new[] { w, g, m, v }) Device.SetArgument(adam, next++, buffer);
        Device.SetArgument(adam, next++, length);
        foreach (var value in new[] { a.Beta1, 1f - a.Beta1, a.Beta2, 1f - a.Beta2, a.Epsilon, a.WeightDecay, a.StepSize(step), a.RootCorrection2(step) })
            Device.SetArgument(adam, next++, value);
        Device.Launch(adam, length, Device.WorkGroupSize(adam, CpuGroupSize));
    }

    public void Dispose() => runner.Dispose();
}
