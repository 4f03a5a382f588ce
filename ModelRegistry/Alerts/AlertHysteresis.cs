namespace MlPlatform.ModelRegistry.Alerts;

public enum AlertTransition
{
    None,
    Fire,
    Resolve,
}

/// <summary>When a rule alert changes state: it fires above the threshold, stays firing inside the band, and resolves only at or below the lower edge.</summary>
public static class AlertHysteresis
{
    /// <param name="value">The measured value; null when there is too little data to say, which changes nothing.</param>
    public static AlertTransition Next(bool firing, double? value, double threshold, double resolveThreshold)
    {
        if (value is not { } v)
        {
            return AlertTransition.None;
        }
        if (!firing)
        {
            return v > threshold ? AlertTransition.Fire : AlertTransition.None;
        }
        return v <= resolveThreshold ? AlertTransition.Resolve : AlertTransition.None;
    }
}
