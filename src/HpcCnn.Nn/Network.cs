using HpcCnn.Problems;

namespace HpcCnn.Nn;

/// <summary>
/// A <see cref="Sequential"/> model with its parameters on a backend: forward, softmax
/// cross-entropy loss, backward and prediction, all on that backend's buffers (on OpenCL the
/// activations and gradients stay on the device; only the loss and predictions come back). Plans
/// are made once per batch size and reused, so a training step allocates nothing. Not thread-safe.
/// </summary>
public sealed partial class Network : IDisposable
{
    private readonly Parameter[][] layerParameters;
    private readonly Dictionary<(int Batch, bool Training), Pipeline> pipelines = [];
    private readonly Dictionary<string, Parameter> byName = [];
    private int frozenSignature = -1;
    private bool disposed;

    internal Network(Sequential model, Backend backend, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(backend);
        Model = model;
        Backend = backend;
        Seed = seed;
        layerParameters = new Parameter[model.Count][];
        var all = new List<Parameter>();
        ulong initSeed = Initialization.Mix(seed ^ 0x1A17);
        try
        {
            for (int i = 0; i < model.Count; i++)
            {
                var specs = model[i].Parameters(model.InputShapeOf(i));
                layerParameters[i] = new Parameter[specs.Count];
                bool he = Initialization.UsesHe(i + 1 < model.Count ? model[i + 1] : null);
                for (int j = 0; j < specs.Count; j++)
                {
                    var spec = specs[j];
                    long length = spec.Shape.Aggregate(1L, (a, d) => a * d);
                    var parameter = new Parameter($"{model[i].Name}.{spec.Suffix}", spec.Shape, backend.Allocate(length), backend.Allocate(length));
                    all.Add(parameter);
                    var values = new float[length];
                    if (!spec.IsBias)
                        Initialization.Uniform(values, he ? Initialization.HeBound(spec.FanIn) : Initialization.XavierBound(spec.FanIn, spec.FanOut),
                            initSeed, all.Count);
                    parameter.Upload(values);
                    layerParameters[i][j] = parameter;
                    byName[parameter.Name] = parameter;
                }
            }
        }
        catch
        {
            foreach (var p in all)
            {
                p.Value.Dispose();
                p.Gradient.Dispose();
            }
            throw;
        }
        Parameters = all;
    }

    public Sequential Model { get; }
    public Backend Backend { get; }
    /// <summary>The seed of the initial weights and of the dropout masks.</summary>
    public ulong Seed { get; }
    /// <summary>Every parameter, layer by layer, weight before bias.</summary>
    public IReadOnlyList<Parameter> Parameters { get; }
    /// <summary>Training steps run so far; the dropout masks of a step are keyed by it.</summary>
    public long Steps { get; private set; }
    public int Classes => checked((int)Model.OutputShape.Size);

    /// <summary>The parameter called <paramref name="name"/> (e.g. <c>conv1.weight</c>).</summary>
    /// <exception cref="KeyNotFoundException">No such parameter; the message lists them.</exception>
    public Parameter this[string name] => byName.TryGetValue(name, out var p) ? p
        : throw new KeyNotFoundException($"no parameter '{name}'; the network has {string.Join(", ", byName.Keys)}");

    /// <summary>
    /// Freezes the parameters of every layer from the first through <paramref name="layer"/> (and
    /// unfreezes the rest): they get no gradient and no update, and backward stops where the
    /// trainable layers begin. Returns how many values (weights and biases) are frozen.
    /// </summary>
    /// <exception cref="KeyNotFoundException">No layer has that name.</exception>
    public long Freeze(string layer)
    {
        int through = Model.Through(layer).Count;
        for (int i = 0; i < layerParameters.Length; i++)
            foreach (var p in layerParameters[i]) p.Frozen = i < through;
        return layerParameters.Take(through).Sum(ps => ps.Sum(p => p.Length));
    }

    /// <summary>
    /// Forward, softmax cross-entropy and backward on one batch (as many images as labels; each
    /// image <see cref="Sequential.InputShape"/> in NCHW order): leaves every trainable parameter's
    /// gradient of the mean loss in <see cref="Parameter.Gradient"/> and returns the mean loss.
    /// Dropout is on. Counts one step.
    /// </summary>
    /// <exception cref="ArgumentException">The image count is not the label count, or a label is not a class.</exception>
    public float ComputeGradients(ReadOnlySpan<float> images, ReadOnlySpan<int> labels)
    {
        var pipeline = Load(images, labels, training: true);
        long step = Steps++;
        pipeline.Forward(step);
        float loss = pipeline.Loss();
        pipeline.Backward(step, FirstTrainableLayer());
        return loss;
    }

    /// <summary><see cref="ComputeGradients"/>, then one update of the trainable parameters by <paramref name="optimizer"/>; returns the loss.</summary>
    public float TrainStep(ReadOnlySpan<float> images, ReadOnlySpan<int> labels, Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        float loss = ComputeGradients(images, labels);
        optimizer.Step(this);
        return loss;
    }

    /// <summary>
    /// Class probabilities of every image, in evaluation mode (no dropout), in batches of up to
    /// <paramref name="batchSize"/>; returns the mean loss when <paramref name="labels"/> are given, else NaN.
    /// </summary>
    public float Predict(ReadOnlySpan<float> images, Span<float> probabilities, ReadOnlySpan<int> labels = default, int batchSize = 256)
    {
        ThrowIfDisposed();
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        long sample = Model.InputShape.Size;
        if (images.Length % sample != 0)
            throw new ArgumentException($"{images.Length} values are not whole images of {Model.InputShape}", nameof(images));
        int count = checked((int)(images.Length / sample));
        if (probabilities.Length < (long)count * Classes)
            throw new ArgumentException($"{count} images need {(long)count * Classes} probabilities, not {probabilities.Length}", nameof(probabilities));
        if (!labels.IsEmpty && labels.Length != count)
            throw new ArgumentException($"{count} images but {labels.Length} labels", nameof(labels));
        double lossSum = 0;
        for (int start = 0; start < count; start += batchSize)
        {
            int n = Math.Min(batchSize, count - start);
            var pipeline = Load(images.Slice((int)(start * sample), (int)(n * sample)), labels.IsEmpty ? default : labels.Slice(start, n), training: false);
            pipeline.Forward(0);
            if (!labels.IsEmpty) lossSum += (double)pipeline.Loss() * n;
            else pipeline.Probabilities();
            pipeline.ProbabilitiesBuffer.Download(probabilities.Slice(start * Classes, n * Classes));
        }
        return labels.IsEmpty ? float.NaN : (float)(lossSum / Math.Max(count, 1));
    }

    /// <summary>The output of the layer called <paramref name="layer"/> for one batch of images in evaluation mode (e.g. the feature maps behind a class activation map).</summary>
    public float[] Activations(ReadOnlySpan<float> images, string layer)
    {
        int index = Model.IndexOf(layer);
        var pipeline = Load(images, default, training: false);
        pipeline.Forward(0);
        var values = new float[checked((int)(pipeline.Batch * Model.OutputShapeOf(index).Size))];
        pipeline.OutputOf(index).Download(values);
        return values;
    }

    /// <summary>The first layer (from the input) with a trainable parameter: backward stops there.</summary>
    private int FirstTrainableLayer()
    {
        for (int i = 0; i < layerParameters.Length; i++)
            if (layerParameters[i].Any(p => !p.Frozen)) return i;
        return layerParameters.Length;
    }

    private Pipeline Load(ReadOnlySpan<float> images, ReadOnlySpan<int> labels, bool training)
    {
        ThrowIfDisposed();
        long sample = Model.InputShape.Size;
        if (images.Length == 0 || images.Length % sample != 0)
            throw new ArgumentException($"{images.Length} values are not a whole, non-empty batch of {Model.InputShape} images", nameof(images));
        int batch = checked((int)(images.Length / sample));
        if (training && labels.Length != batch)
            throw new ArgumentException($"{batch} images but {labels.Length} labels", nameof(labels));
        for (int i = 0; i < labels.Length; i++)
            if ((uint)labels[i] >= (uint)Classes)
                throw new ArgumentOutOfRangeException(nameof(labels), labels[i], $"labels[{i}] = {labels[i]} is not a class (0 .. {Classes - 1})");
        var pipeline = Pipeline(batch, training);
        pipeline.Input.Upload(images);
        if (!labels.IsEmpty) pipeline.Labels.Upload(labels);
        return pipeline;
    }

    private Pipeline Pipeline(int batch, bool training)
    {
        // Freezing changes which layers need an input gradient: plans made before then are stale.
        int signature = FirstTrainableLayer();
        if (signature != frozenSignature)
        {
            DisposePipelines();
            frozenSignature = signature;
        }
        if (!pipelines.TryGetValue((batch, training), out var pipeline))
        {
            // Batches of other sizes than the last few (a last partial batch, evaluation) are kept too, but not without bound.
            if (pipelines.Count >= 8) DisposePipelines();
            pipeline = new Pipeline(this, layerParameters, batch, training, training ? FirstTrainableLayer() : int.MaxValue);
            pipelines[(batch, training)] = pipeline;
        }
        return pipeline;
    }

    private void DisposePipelines()
    {
        foreach (var p in pipelines.Values) p.Dispose();
        pipelines.Clear();
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(disposed, this);

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        DisposePipelines();
        foreach (var p in Parameters)
        {
            p.Value.Dispose();
            p.Gradient.Dispose();
        }
    }
}
