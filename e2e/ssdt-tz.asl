/*
 * One ACPI thermal zone, \_TZ.THZ0, for the end-to-end suite. Its current
 * temperature and its critical and hot trip points are read from a page of
 * guest-physical memory at 0x10000000 (the guest boots with
 * memmap=4K$0x10000000 so the kernel leaves it alone). Guest RAM is a shared
 * file on the host, so the test changes the zone's temperature by writing
 * that file. Values are deci-Kelvin; 0 selects the default.
 */
DefinitionBlock ("ssdt-tz.aml", "SSDT", 2, "THERML", "E2ETZ", 1)
{
    OperationRegion (TZPG, SystemMemory, 0x10000000, 0x10)
    Field (TZPG, DWordAcc, NoLock, Preserve)
    {
        CTMP, 32,
        CCRT, 32,
        CHOT, 32,
    }
    Scope (\_TZ)
    {
        ThermalZone (THZ0)
        {
            Method (_TMP, 0, Serialized)
            {
                If (CTMP == 0) { Return (3082) }    /* 35 C */
                Return (CTMP)
            }
            Method (_CRT, 0, Serialized)
            {
                If (CCRT == 0) { Return (3932) }    /* 120 C */
                Return (CCRT)
            }
            Method (_HOT, 0, Serialized)
            {
                If (CHOT == 0) { Return (3732) }    /* 100 C */
                Return (CHOT)
            }
        }
    }
}
