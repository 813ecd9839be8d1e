using EdgeOps.Reconciler.Pipeline;

namespace EdgeOps.Reconciler.Tests.Pipeline;

/// <summary>
/// The facts file a process on the device writes (--facts): its location and discovered devices are read; anything
/// else in it fails the pass with the file and the field named, and never crashes the pass (which stops the daemon).
/// </summary>
public sealed class FactsFileTests
{
    [Fact]
    public void LocationAndDevices_AreRead()
    {
        var facts = RevisionRenderer.ParseFacts("facts.json", """{"location": {"lat": -41.29, "lon": 174.78}, "devices": {"usb-camera": 2, "lidar": 0}}""");

        Assert.Equal(new Fleet.Model.GeoPoint(-41.29, 174.78), facts.Location);
        Assert.Equal([new("lidar", 0), new("usb-camera", 2)], facts.Devices!);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("""{"location": null, "devices": null}""")]
    public void Nothing_IsNoLocationAndNoDevices(string text)
    {
        var facts = RevisionRenderer.ParseFacts("facts.json", text);

        Assert.Equal((null, null), (facts.Location, facts.Devices));
    }

    [Theory]
    [InlineData("{\"location\": ", "facts.json: the facts file is not JSON: ")]
    [InlineData("[1, 2]", "facts.json: the facts file must be a JSON object")]
    [InlineData("42", "facts.json: the facts file must be a JSON object")]
    [InlineData("""{"location": {"lat": "41.5", "lon": 0.5}}""", """facts.json: location must be {"lat": DEGREES, "lon": DEGREES}, latitude -90 to 90 and longitude -180 to 180; found {"lat":"41.5","lon":0.5}""")]
    [InlineData("""{"location": {"lat": 141.5, "lon": 0.5}}""", "facts.json: location must be")]
    [InlineData("""{"location": {"lat": 41.5}}""", "facts.json: location must be")]
    [InlineData("""{"location": [41.5, 0.5]}""", "facts.json: location must be")]
    [InlineData("""{"devices": ["usb-camera"]}""", """facts.json: devices must be an object of device class to count; found ["usb-camera"]""")]
    [InlineData("""{"devices": {"usb-camera": null}}""", "facts.json: devices.usb-camera must be a count (a whole number, 0 or more); found null")]
    [InlineData("""{"devices": {"usb-camera": "2"}}""", "facts.json: devices.usb-camera must be a count (a whole number, 0 or more); found \"2\"")]
    [InlineData("""{"devices": {"usb-camera": 1.5}}""", "facts.json: devices.usb-camera must be a count")]
    [InlineData("""{"devices": {"usb-camera": -1}}""", "facts.json: devices.usb-camera must be a count")]
    [InlineData("""{"devices": {"usb-camera": 1e20}}""", "facts.json: devices.usb-camera must be a count")]
    public void AnythingElse_FailsThePass_NamingTheFileAndTheField(string text, string expected)
    {
        var failure = Assert.Throws<ReconcilerException>(() => RevisionRenderer.ParseFacts("facts.json", text));

        Assert.StartsWith(expected, failure.Message, StringComparison.Ordinal);
        Assert.True(EdgeOps.Reconciler.Pipeline.Reconciler.IsEnvironmental(failure), "a bad facts file fails the pass; it is not a defect that stops the daemon");
    }
}
