using System.Collections;

namespace HpcCnn.Nn;

/// <summary>
/// A model: layers applied one after the other to samples of <see cref="InputShape"/>. It only
/// describes the network (and checks that every layer fits the shape before it); <see cref="Build"/>
/// makes a <see cref="Network"/> with parameters on a backend.
/// </summary>
/// <example>
/// <code>
/// var model = new Sequential(new TensorShape(1, 28, 28),
///     new Conv2d(6, 5, padding: 2), new ReLU(), new MaxPool2d(2),
///     new Flatten(), new Dense(10));
/// using var cpu = new CpuBackend();
/// using var network = model.Build(cpu, seed: 1);
/// </code>
/// </example>
public sealed class Sequential : IReadOnlyList<Layer>
{
    private readonly Layer[] layers;
    private readonly TensorShape[] shapes;

    /// <exception cref="ArgumentException">A layer does not fit the shape before it, or two layers share a name.</exception>
    public Sequential(TensorShape inputShape, params IEnumerable<Layer> layers)
    {
        if (inputShape.Channels <= 0 || inputShape.Height <= 0 || inputShape.Width <= 0)
            throw new ArgumentOutOfRangeException(nameof(inputShape), inputShape, "every dimension of the input shape must be positive");
        this.layers = [.. layers];
        if (this.layers.Length == 0) throw new ArgumentException("a model needs at least one layer", nameof(layers));
        InputShape = inputShape;
        AssignNames();
        shapes = new TensorShape[this.layers.Length];
        var shape = inputShape;
        for (int i = 0; i < this.layers.Length; i++)
            shapes[i] = shape = this.layers[i].OutputShape(shape);
    }

    public TensorShape InputShape { get; }

    /// <summary>The last layer's output shape; its size is the number of classes a classifier tells apart.</summary>
    public TensorShape OutputShape => shapes[^1];

    public int Count => layers.Length;

    public Layer this[int index] => layers[index];

    /// <summary>The layer called <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No layer has that name; the message lists those there are.</exception>
    public Layer this[string name] => layers[IndexOf(name)];

    /// <summary>The position of the layer called <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No layer has that name; the message lists those there are.</exception>
    public int IndexOf(string name)
    {
        int index = Array.FindIndex(layers, l => l.Name == name);
        return index >= 0 ? index
            : throw new KeyNotFoundException($"no layer '{name}'; the model has {string.Join(", ", layers.Select(l => l.Name))}");
    }

    /// <summary>The layers from the first through the one called <paramref name="name"/>: a trunk to put a new head on.</summary>
    /// <exception cref="KeyNotFoundException">No layer has that name.</exception>
    public IReadOnlyList<Layer> Through(string name)
    {
        return layers[..(IndexOf(name) + 1)];
    }

    /// <summary>The shape the layer at <paramref name="index"/> takes.</summary>
    public TensorShape InputShapeOf(int index) => index == 0 ? InputShape : shapes[index - 1];

    /// <summary>The shape the layer at <paramref name="index"/> makes.</summary>
    public TensorShape OutputShapeOf(int index) => shapes[index];

    /// <summary>Trainable elements of the whole model.</summary>
    public long ParameterCount =>
        Enumerable.Range(0, Count).Sum(i => layers[i].Parameters(InputShapeOf(i)).Sum(p => p.Shape.Aggregate(1L, (a, d) => a * d)));

    /// <summary>Parameters on <paramref name="backend"/>, initialised from <paramref name="seed"/> (see <see cref="Initialization"/>).</summary>
    public Network Build(Backend backend, ulong seed = 1) => new(this, backend, seed);

    /// <summary>One line per layer: name, what it does, output shape, parameters.</summary>
    public IEnumerable<(string Name, string Description, TensorShape Output, long Parameters)> Summary() =>
        Enumerable.Range(0, Count).Select(i => (layers[i].Name!, layers[i].Describe(InputShapeOf(i)), shapes[i],
            layers[i].Parameters(InputShapeOf(i)).Sum(p => p.Shape.Aggregate(1L, (a, d) => a * d))));

    public IEnumerator<Layer> GetEnumerator() => ((IEnumerable<Layer>)layers).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private void AssignNames()
    {
        var counts = new Dictionary<string, int>();
        var seen = new HashSet<string>();
        foreach (var layer in layers)
        {
            ArgumentNullException.ThrowIfNull(layer, nameof(layers));
            int n = counts[layer.NamePrefix] = counts.GetValueOrDefault(layer.NamePrefix) + 1;
            layer.Name ??= layer.NamePrefix + n;
            if (layer.Name.Length == 0 || layer.Name.Contains('.'))
                throw new ArgumentException($"layer name '{layer.Name}' must be non-empty and contain no '.'", nameof(layers));
            if (!seen.Add(layer.Name)) throw new ArgumentException($"two layers are called '{layer.Name}'", nameof(layers));
        }
    }
}
