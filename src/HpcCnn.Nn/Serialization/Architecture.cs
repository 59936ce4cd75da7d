using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace HpcCnn.Nn;

/// <summary>
/// A <see cref="Sequential"/> model as JSON, so one safetensors file (weights plus this text in
/// its metadata) is enough to rebuild a model: <c>{"input": "1x28x28", "layers": [{"type":
/// "Conv2d", "name": "conv1", "out": 6, "kernel": 5, ...}, ...]}</c>. Every layer type and option
/// is written; reading checks every field and names the layer and field at fault.
/// </summary>
public static class Architecture
{
    /// <summary>The metadata key under which <see cref="Network.SaveWeights"/> callers store the architecture.</summary>
    public const string MetadataKey = "hpccnn.architecture";

    public static string ToJson(Sequential model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var layers = new JsonArray();
        foreach (var layer in model) layers.Add((JsonNode)Describe(layer));
        return new JsonObject { ["input"] = model.InputShape.ToString(), ["layers"] = layers }.ToJsonString();
    }

    /// <exception cref="FormatException">Not an architecture this version writes; the message names the layer and field.</exception>
    /// <exception cref="ArgumentException">The layers do not fit together (as <see cref="Sequential"/>'s constructor says).</exception>
    public static Sequential FromJson(string json)
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(json) as JsonObject ?? throw new FormatException("the architecture is not a JSON object");
        }
        catch (JsonException e)
        {
            throw new FormatException($"the architecture is not valid JSON ({e.Message})", e);
        }
        var input = TensorShape.Parse(Text(root, "input", "the architecture"));
        if (root["layers"] is not JsonArray array) throw new FormatException("the architecture has no \"layers\" array");
        var layers = new List<Layer>();
        for (int i = 0; i < array.Count; i++)
        {
            if (array[i] is not JsonObject o) throw new FormatException($"layer {i} is not an object");
            layers.Add(Create(o, $"layer {i}"));
        }
        return new Sequential(input, layers);
    }

    private static JsonObject Describe(Layer layer)
    {
        var o = new JsonObject { ["type"] = layer.GetType().Name, ["name"] = layer.Name };
        switch (layer)
        {
            case Conv2d c:
                o["out"] = c.OutChannels;
                o["kernel_height"] = c.KernelHeight;
                o["kernel_width"] = c.KernelWidth;
                o["stride"] = c.Stride;
                o["padding"] = c.Padding;
                o["dilation"] = c.Dilation;
                o["groups"] = c.Groups;
                o["bias"] = c.HasBias;
                break;
            case Dense d:
                o["out"] = d.OutFeatures;
                o["bias"] = d.HasBias;
                o["drop_connect"] = d.DropConnect;
                break;
            case MaxPool2d m:
                o["kernel"] = m.Kernel;
                o["stride"] = m.Stride;
                o["padding"] = m.Padding;
                break;
            case AvgPool2d a:
                o["kernel"] = a.Kernel;
                o["stride"] = a.Stride;
                o["padding"] = a.Padding;
                o["count_include_pad"] = a.CountIncludePad;
                break;
            case LeakyReLU l:
                o["slope"] = l.Alpha;
                break;
            case Dropout d:
                o["rate"] = d.Rate;
                break;
            case GlobalAvgPool or Flatten or ReLU or Tanh or Sigmoid:
                break;
            default:
                throw new NotSupportedException($"layer type {layer.GetType().Name} has no architecture form");
        }
        return o;
    }

    private static Layer Create(JsonObject o, string where)
    {
        string type = Text(o, "type", where), name = Text(o, "name", where);
        where = $"layer '{name}' ({type})";
        return type switch
        {
            nameof(Conv2d) => new Conv2d(Int(o, "out", where), Int(o, "kernel_height", where), Int(o, "stride", where), Int(o, "padding", where),
                Int(o, "dilation", where), Int(o, "groups", where), Bool(o, "bias", where), name) { KernelWidth = Int(o, "kernel_width", where) },
            nameof(Dense) => new Dense(Int(o, "out", where), Bool(o, "bias", where), Float(o, "drop_connect", where), name),
            nameof(MaxPool2d) => new MaxPool2d(Int(o, "kernel", where), Int(o, "stride", where), Int(o, "padding", where), name),
            nameof(AvgPool2d) => new AvgPool2d(Int(o, "kernel", where), Int(o, "stride", where), Int(o, "padding", where),
                Bool(o, "count_include_pad", where), name),
            nameof(GlobalAvgPool) => new GlobalAvgPool(name),
            nameof(Flatten) => new Flatten(name),
            nameof(ReLU) => new ReLU(name),
            nameof(LeakyReLU) => new LeakyReLU(Float(o, "slope", where), name),
            nameof(Tanh) => new Tanh(name),
            nameof(Sigmoid) => new Sigmoid(name),
            nameof(Dropout) => new Dropout(Float(o, "rate", where), name),
            _ => throw new FormatException($"{where}: unknown layer type"),
        };
    }

    private static JsonValue Value(JsonObject o, string field, string where) =>
        o[field] as JsonValue ?? throw new FormatException($"{where}: no \"{field}\"");

    private static string Text(JsonObject o, string field, string where) =>
        Value(o, field, where).TryGetValue(out string? s) ? s : throw new FormatException($"{where}: \"{field}\" is not a string");

    private static int Int(JsonObject o, string field, string where) =>
        Value(o, field, where).TryGetValue(out int i) ? i : throw new FormatException($"{where}: \"{field}\" is not an integer");

    private static bool Bool(JsonObject o, string field, string where) =>
        Value(o, field, where).TryGetValue(out bool b) ? b : throw new FormatException($"{where}: \"{field}\" is not true or false");

    private static float Float(JsonObject o, string field, string where)
    {
        var v = Value(o, field, where);
        if (v.TryGetValue(out float f)) return f;
        if (v.TryGetValue(out double d)) return (float)d;
        if (v.TryGetValue(out string? s) && float.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out f)) return f;
        throw new FormatException($"{where}: \"{field}\" is not a number");
    }
}
