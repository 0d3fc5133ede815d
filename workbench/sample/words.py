"""Fixed vocabularies the generator draws from: names, places, product words, reference data.

Kept as plain tuples so the sample never depends on an external data set or a locale library:
the same seed must give the same database on every machine, forever.
"""

from __future__ import annotations

FIRST_NAMES: tuple[str, ...] = (
    "Anna", "Ben", "Clara", "David", "Elena", "Felix", "Greta", "Hugo", "Ines", "Jonas", "Katrin", "Lukas",
    "Marie", "Nils", "Olivia", "Paul", "Quentin", "Rosa", "Sophie", "Tom", "Ursula", "Victor", "Wiebke",
    "Xavier", "Yara", "Zoe", "James", "Emily", "Oliver", "Charlotte", "Liam", "Amelia", "Noah", "Isla",
    "Lucas", "Chloe", "Mateo", "Lucia", "Pierre", "Camille", "Luca", "Giulia", "Sven", "Ingrid", "Piet",
    "Sanne", "Jan", "Ewa", "Tomasz", "Agnieszka", "Miguel", "Carmen", "Joao", "Beatriz", "Sean", "Aoife",
)

LAST_NAMES: tuple[str, ...] = (
    "Muller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Hoffmann", "Koch",
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Evans", "Thomas",
    "Martin", "Bernard", "Dubois", "Durand", "Lefebvre", "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi",
    "Garcia", "Fernandez", "Lopez", "Martinez", "Jansen", "de Vries", "van Dijk", "Bakker", "Nowak",
    "Kowalski", "Wisniewski", "Silva", "Santos", "Murphy", "Kelly", "Andersson", "Johansson", "Nielsen",
)

EMAIL_DOMAINS: tuple[str, ...] = (
    "example.com", "example.net", "example.org", "mail.example", "post.example", "inbox.example",
)

# code, name, currency, phone prefix, EU member, is a sales market, cities
COUNTRIES: tuple[tuple[str, str, str, str, bool, bool, tuple[str, ...]], ...] = (
    ("DE", "Germany", "EUR", "+49", True, True, ("Berlin", "Hamburg", "Munich", "Cologne", "Frankfurt", "Leipzig")),
    ("AT", "Austria", "EUR", "+43", True, True, ("Vienna", "Graz", "Linz", "Salzburg")),
    ("NL", "Netherlands", "EUR", "+31", True, True, ("Amsterdam", "Rotterdam", "Utrecht", "Eindhoven")),
    ("BE", "Belgium", "EUR", "+32", True, True, ("Brussels", "Antwerp", "Ghent", "Liege")),
    ("FR", "France", "EUR", "+33", True, True, ("Paris", "Lyon", "Marseille", "Toulouse", "Lille")),
    ("IT", "Italy", "EUR", "+39", True, True, ("Rome", "Milan", "Turin", "Bologna", "Naples")),
    ("ES", "Spain", "EUR", "+34", True, True, ("Madrid", "Barcelona", "Valencia", "Seville")),
    ("PL", "Poland", "PLN", "+48", True, True, ("Warsaw", "Krakow", "Wroclaw", "Gdansk")),
    ("GB", "United Kingdom", "GBP", "+44", False, True, ("London", "Manchester", "Leeds", "Bristol", "Glasgow")),
    ("IE", "Ireland", "EUR", "+353", True, True, ("Dublin", "Cork", "Galway")),
    ("SE", "Sweden", "SEK", "+46", True, True, ("Stockholm", "Gothenburg", "Malmo")),
    ("DK", "Denmark", "DKK", "+45", True, True, ("Copenhagen", "Aarhus", "Odense")),
    ("CH", "Switzerland", "CHF", "+41", False, True, ("Zurich", "Geneva", "Basel", "Bern")),
    ("US", "United States", "USD", "+1", False, True, ("New York", "Chicago", "Seattle", "Boston", "Austin")),
    ("PT", "Portugal", "EUR", "+351", True, False, ("Lisbon", "Porto")),
    ("CZ", "Czechia", "CZK", "+420", True, False, ("Prague", "Brno")),
    ("CN", "China", "CNY", "+86", False, False, ("Shenzhen", "Shanghai", "Ningbo", "Guangzhou")),
    ("TW", "Taiwan", "TWD", "+886", False, False, ("Taipei", "Taichung")),
    ("VN", "Vietnam", "VND", "+84", False, False, ("Ho Chi Minh City", "Hanoi")),
    ("IN", "India", "INR", "+91", False, False, ("Mumbai", "Bangalore", "Chennai")),
    ("TR", "Turkey", "TRY", "+90", False, False, ("Istanbul", "Izmir", "Bursa")),
    ("JP", "Japan", "JPY", "+81", False, False, ("Tokyo", "Osaka")),
    ("KR", "South Korea", "KRW", "+82", False, False, ("Seoul", "Busan")),
    ("CA", "Canada", "CAD", "+1", False, False, ("Toronto", "Vancouver", "Montreal")),
)

# code, name, symbol, minor-unit decimals, rate to EUR at 2011-01-01
CURRENCIES: tuple[tuple[str, str, str, int, float], ...] = (
    ("EUR", "Euro", "€", 2, 1.0),
    ("GBP", "Pound sterling", "£", 2, 1.16),
    ("USD", "US dollar", "$", 2, 0.75),
    ("CHF", "Swiss franc", "Fr", 2, 0.80),
    ("SEK", "Swedish krona", "kr", 2, 0.11),
    ("DKK", "Danish krone", "kr", 2, 0.134),
    ("PLN", "Polish zloty", "zł", 2, 0.25),
    ("CZK", "Czech koruna", "Kč", 2, 0.04),
    ("CNY", "Renminbi", "¥", 2, 0.113),
    ("TWD", "New Taiwan dollar", "NT$", 2, 0.026),
    ("VND", "Vietnamese dong", "₫", 0, 0.000038),
    ("INR", "Indian rupee", "₹", 2, 0.0167),
    ("TRY", "Turkish lira", "₺", 2, 0.48),
    ("JPY", "Japanese yen", "¥", 0, 0.0092),
    ("KRW", "South Korean won", "₩", 0, 0.00067),
    ("CAD", "Canadian dollar", "$", 2, 0.75),
)

# standard and reduced VAT (percent) per sales market
VAT: dict[str, tuple[float, float]] = {
    "DE": (19.0, 7.0), "AT": (20.0, 10.0), "NL": (21.0, 9.0), "BE": (21.0, 6.0), "FR": (20.0, 5.5),
    "IT": (22.0, 10.0), "ES": (21.0, 10.0), "PL": (23.0, 8.0), "GB": (20.0, 5.0), "IE": (23.0, 13.5),
    "SE": (25.0, 12.0), "DK": (25.0, 25.0), "CH": (7.7, 2.5), "US": (0.0, 0.0),
}

# entity type, code, label, final state
STATUS_CODES: tuple[tuple[str, str, str, bool], ...] = (
    ("ORDER", "PENDING", "Awaiting payment", False),
    ("ORDER", "PAID", "Paid, awaiting shipment", False),
    ("ORDER", "SHIPPED", "Shipped", False),
    ("ORDER", "DELIVERED", "Delivered", True),
    ("ORDER", "CANCELLED", "Cancelled", True),
    ("PAYMENT", "AUTHORISED", "Authorised", False),
    ("PAYMENT", "CAPTURED", "Captured", True),
    ("PAYMENT", "FAILED", "Declined or failed", True),
    ("SHIPMENT", "IN_TRANSIT", "In transit", False),
    ("SHIPMENT", "DELIVERED", "Delivered", True),
    ("RETURN", "REQUESTED", "Return requested", False),
    ("RETURN", "RECEIVED", "Goods received", False),
    ("RETURN", "REFUNDED", "Refunded", True),
    ("INVOICE", "OPEN", "Open", False),
    ("INVOICE", "PAID", "Paid", True),
    ("PO", "OPEN", "Ordered from supplier", False),
    ("PO", "RECEIVED", "Fully received", True),
    ("PO", "PARTIAL", "Partially received", True),
    ("PO", "CANCELLED", "Cancelled", True),
    ("CUSTOMER", "ACTIVE", "Active", False),
    ("CUSTOMER", "BLOCKED", "Blocked", False),
    ("CUSTOMER", "CLOSED", "Closed at customer request", True),
    ("ACCOUNT", "APPLIED", "Application received", False),
    ("ACCOUNT", "APPROVED", "Approved", False),
    ("ACCOUNT", "SUSPENDED", "Suspended for overdue invoices", False),
    ("PRODUCT", "DRAFT", "Draft", False),
    ("PRODUCT", "ACTIVE", "On sale", False),
    ("PRODUCT", "DISCONTINUED", "Discontinued", True),
)

# department name, cost centre, share of staff
DEPARTMENTS: tuple[tuple[str, str, float], ...] = (
    ("Management", "CC100", 0.03),
    ("Customer Service", "CC200", 0.22),
    ("Warehouse & Logistics", "CC300", 0.32),
    ("Purchasing", "CC400", 0.08),
    ("Finance", "CC500", 0.07),
    ("Marketing", "CC600", 0.09),
    ("IT", "CC700", 0.08),
    ("Wholesale Sales", "CC800", 0.08),
    ("Content & Catalog", "CC900", 0.03),
)

ROLES: tuple[tuple[str, str], ...] = (
    ("admin", "Full access to the back office"),
    ("cs_agent", "Customer service: orders, returns, notes"),
    ("cs_supervisor", "Customer service supervisor: refunds and goodwill"),
    ("warehouse", "Pick, pack, ship and receive goods"),
    ("warehouse_lead", "Stock adjustments and counts"),
    ("buyer", "Purchase orders and supplier terms"),
    ("finance", "Invoices, payments, refunds"),
    ("marketing", "Promotions, coupons, newsletters"),
    ("content", "Product content and CMS pages"),
    ("account_manager", "Wholesale accounts"),
    ("reporting", "Read-only reports"),
    ("developer", "IT: settings and sequences"),
)

# department index -> roles granted (first is the main role)
DEPARTMENT_ROLES: dict[int, tuple[str, ...]] = {
    0: ("admin", "reporting"), 1: ("cs_agent", "cs_supervisor"), 2: ("warehouse", "warehouse_lead"),
    3: ("buyer", "reporting"), 4: ("finance", "reporting"), 5: ("marketing", "content"),
    6: ("developer", "admin"), 7: ("account_manager", "reporting"), 8: ("content", "marketing"),
}

CATEGORY_TREE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Kitchen", ("Cookware", "Knives", "Bakeware", "Small Appliances", "Coffee & Tea", "Storage")),
    ("Home", ("Bedding", "Towels", "Decor", "Cleaning", "Furniture")),
    ("Garden", ("Tools", "Planters", "Watering", "Outdoor Lighting", "Grills")),
    ("Electronics", ("Audio", "Cables", "Chargers", "Smart Home", "Cameras")),
    ("Office", ("Paper", "Writing", "Desk Accessories", "Printers", "Filing")),
    ("Sports", ("Fitness", "Cycling", "Running", "Camping", "Swimming")),
    ("Toys", ("Building Sets", "Board Games", "Puzzles", "Outdoor Toys")),
    ("DIY", ("Power Tools", "Hand Tools", "Fasteners", "Paint", "Electrical")),
    ("Lighting", ("Lamps", "Bulbs", "Ceiling Lights")),
    ("Pets", ("Dog", "Cat", "Aquarium")),
    ("Bathroom", ("Fittings", "Textiles", "Accessories")),
    ("Clearance", ()),
)

PRODUCT_ADJECTIVES: tuple[str, ...] = (
    "Classic", "Compact", "Deluxe", "Eco", "Essential", "Heavy-Duty", "Mini", "Modern", "Nordic", "Premium",
    "Pro", "Smart", "Slim", "Sturdy", "Ultra", "Vintage", "Wireless", "XL", "Foldable", "Stainless",
)

CATEGORY_NOUNS: dict[str, tuple[str, ...]] = {
    "Cookware": ("Frying Pan", "Saucepan", "Wok", "Stock Pot", "Casserole"),
    "Knives": ("Chef Knife", "Bread Knife", "Knife Block", "Paring Knife"),
    "Bakeware": ("Baking Tray", "Cake Tin", "Muffin Tray", "Loaf Pan"),
    "Small Appliances": ("Kettle", "Toaster", "Blender", "Hand Mixer", "Juicer"),
    "Coffee & Tea": ("Espresso Maker", "French Press", "Tea Pot", "Milk Frother", "Grinder"),
    "Storage": ("Food Container Set", "Spice Rack", "Bread Bin", "Jar Set"),
    "Bedding": ("Duvet Cover", "Pillow", "Fitted Sheet", "Blanket"),
    "Towels": ("Bath Towel", "Hand Towel", "Beach Towel"),
    "Decor": ("Vase", "Picture Frame", "Wall Clock", "Candle Holder", "Mirror"),
    "Cleaning": ("Mop", "Vacuum Cleaner", "Broom Set", "Steam Cleaner"),
    "Furniture": ("Side Table", "Bookshelf", "Stool", "Shoe Rack"),
    "Tools": ("Pruner", "Rake", "Spade", "Hedge Trimmer"),
    "Planters": ("Planter", "Raised Bed", "Flower Pot"),
    "Watering": ("Garden Hose", "Watering Can", "Sprinkler"),
    "Outdoor Lighting": ("Solar Light", "Lantern", "Floodlight"),
    "Grills": ("Charcoal Grill", "Gas Grill", "Grill Tongs"),
    "Audio": ("Headphones", "Bluetooth Speaker", "Earbuds", "Soundbar"),
    "Cables": ("HDMI Cable", "USB-C Cable", "Extension Lead"),
    "Chargers": ("Wall Charger", "Power Bank", "Wireless Charger"),
    "Smart Home": ("Smart Plug", "Smart Bulb", "Door Sensor", "Thermostat"),
    "Cameras": ("Action Camera", "Webcam", "Security Camera"),
    "Paper": ("Copy Paper", "Notebook", "Sticky Notes"),
    "Writing": ("Ballpoint Pen Set", "Fountain Pen", "Marker Set"),
    "Desk Accessories": ("Desk Organiser", "Monitor Stand", "Desk Lamp"),
    "Printers": ("Inkjet Printer", "Laser Printer", "Toner Cartridge"),
    "Filing": ("Lever Arch File", "Filing Cabinet", "Document Box"),
    "Fitness": ("Yoga Mat", "Dumbbell Set", "Resistance Band", "Kettlebell"),
    "Cycling": ("Bike Light", "Bike Lock", "Helmet", "Pump"),
    "Running": ("Running Belt", "Water Bottle", "Armband"),
    "Camping": ("Tent", "Sleeping Bag", "Camping Stove", "Headlamp"),
    "Swimming": ("Goggles", "Swim Cap", "Kickboard"),
    "Building Sets": ("Brick Set", "Construction Kit"),
    "Board Games": ("Strategy Game", "Family Game", "Card Game"),
    "Puzzles": ("Jigsaw 1000", "Jigsaw 500", "3D Puzzle"),
    "Outdoor Toys": ("Kite", "Water Pistol", "Frisbee"),
    "Power Tools": ("Cordless Drill", "Jigsaw", "Angle Grinder", "Sander"),
    "Hand Tools": ("Hammer", "Screwdriver Set", "Spanner Set", "Pliers"),
    "Fasteners": ("Screw Assortment", "Wall Plugs", "Nail Set"),
    "Paint": ("Wall Paint", "Paint Roller", "Brush Set"),
    "Electrical": ("Multimeter", "Cable Ties", "Socket Strip"),
    "Lamps": ("Floor Lamp", "Table Lamp", "Reading Lamp"),
    "Bulbs": ("LED Bulb E27", "LED Bulb GU10", "Filament Bulb"),
    "Ceiling Lights": ("Pendant Light", "Ceiling Spot", "Flush Light"),
    "Dog": ("Dog Bed", "Dog Lead", "Dog Bowl"),
    "Cat": ("Cat Tree", "Cat Litter Tray", "Cat Toy Set"),
    "Aquarium": ("Aquarium Filter", "Aquarium Heater", "Fish Tank"),
    "Fittings": ("Shower Head", "Tap", "Towel Rail"),
    "Textiles": ("Bath Mat", "Shower Curtain"),
    "Accessories": ("Soap Dispenser", "Toothbrush Holder", "Bathroom Shelf"),
}

BRAND_PARTS: tuple[tuple[str, ...], tuple[str, ...]] = (
    ("Alp", "Bor", "Cor", "Del", "Ever", "Fjor", "Gran", "Hel", "Iso", "Jura", "Kron", "Lum", "Mar", "Nor",
     "Opti", "Prim", "Quad", "Ros", "Sol", "Ter", "Ul", "Vel", "Wes", "Zen"),
    ("ex", "tek", "line", "ware", "haus", "form", "ia", "o", "ix", "ona", "craft", "works"),
)

SUPPLIER_SUFFIXES: tuple[str, ...] = (
    "Trading Co. Ltd", "GmbH", "Industries", "Manufacturing", "Import-Export", "B.V.", "S.r.l.", "Group",
)

CARRIERS: tuple[tuple[str, str], ...] = (
    ("DHL Parcel", "https://track.example/dhl/{tracking}"),
    ("DPD", "https://track.example/dpd/{tracking}"),
    ("UPS", "https://track.example/ups/{tracking}"),
    ("Royal Mail", "https://track.example/rm/{tracking}"),
    ("GLS", "https://track.example/gls/{tracking}"),
    ("Freight Forwarder (pallets)", "https://track.example/freight/{tracking}"),
)

# code, name, provider, active
PAYMENT_METHODS: tuple[tuple[str, str, str, bool], ...] = (
    ("CARD", "Credit or debit card", "Payvault", True),
    ("PAYPAL", "PayPal", "PayPal", True),
    ("SOFORT", "Sofort banking", "Klarna", False),
    ("KLARNA", "Klarna invoice", "Klarna", True),
    ("IDEAL", "iDEAL", "Payvault", True),
    ("BANK", "Bank transfer", "internal", True),
    ("COD", "Cash on delivery", "internal", False),
    ("GIFTCARD", "Gift card", "internal", True),
)

# name, is wholesale, price list code, discount percent
CUSTOMER_GROUPS: tuple[tuple[str, bool, str, float], ...] = (
    ("Retail", False, "RETAIL_EUR", 0.0),
    ("Retail VIP", False, "RETAIL_EUR", 5.0),
    ("Staff", False, "RETAIL_EUR", 20.0),
    ("Wholesale Bronze", True, "WHOLESALE_EUR", 0.0),
    ("Wholesale Silver", True, "WHOLESALE_EUR", 3.0),
    ("Wholesale Gold", True, "WHOLESALE_EUR", 6.0),
)

# code, name, currency, wholesale, valid from
PRICE_LISTS: tuple[tuple[str, str, str, bool, str], ...] = (
    ("RETAIL_EUR", "Retail (EUR)", "EUR", False, "2011-01-01"),
    ("WHOLESALE_EUR", "Wholesale (EUR)", "EUR", True, "2011-01-01"),
    ("RETAIL_GBP", "Retail (GBP), converted at checkout", "GBP", False, "2013-04-01"),
    ("RETAIL_USD", "Retail (USD), converted at checkout", "USD", False, "2016-09-01"),
    ("OUTLET_EUR", "Outlet (EUR), unused since 2019", "EUR", False, "2014-01-01"),
)

# code, city, country, opened (year, month)
WAREHOUSES: tuple[tuple[str, str, str, str, tuple[int, int]], ...] = (
    ("DC-HAM", "Hamburg distribution centre", "DE", "Hamburg", (2011, 1)),
    ("DC-LEI", "Leipzig hub", "DE", "Leipzig", (2014, 3)),
    ("DC-RTM", "Rotterdam cross-dock", "NL", "Rotterdam", (2016, 6)),
    ("DC-MAN", "Manchester fulfilment", "GB", "Manchester", (2018, 2)),
    ("DC-WRO", "Wroclaw fulfilment", "PL", "Wroclaw", (2021, 9)),
    ("ST-BER", "Berlin store backroom (closed 2020)", "DE", "Berlin", (2012, 5)),
)

EMAIL_TEMPLATES: tuple[tuple[str, str], ...] = (
    ("ORDER_CONFIRMATION", "Thank you for your order {order_number}"),
    ("ORDER_SHIPPED", "Your order {order_number} is on its way"),
    ("RETURN_RECEIVED", "We received your return {rma_number}"),
    ("REFUND_ISSUED", "Your refund for {rma_number}"),
    ("PASSWORD_RESET", "Reset your password"),
    ("NEWSLETTER_WELCOME", "Welcome to our newsletter"),
    ("INVOICE_OVERDUE", "Reminder: invoice {invoice_number} is overdue"),
    ("CART_REMINDER", "You left something in your cart"),
)

CMS_PAGES: tuple[str, ...] = (
    "about-us", "contact", "shipping-information", "returns-policy", "privacy-policy", "terms-and-conditions",
    "wholesale-programme", "careers", "faq", "gift-cards", "store-locator", "loyalty-programme",
    "sustainability", "press", "imprint", "cookie-policy", "size-guide", "black-friday", "christmas-gift-guide",
    "summer-sale",
)

SETTINGS: tuple[tuple[str, str], ...] = (
    ("checkout.free_shipping_threshold_eur", "50.00"),
    ("checkout.standard_shipping_eur", "4.95"),
    ("checkout.allow_guest", "true"),
    ("checkout.payment_retry_minutes", "30"),
    ("orders.reservation_days", "7"),
    ("orders.number_prefix", "WEB"),
    ("returns.window_days", "30"),
    ("loyalty.points_per_eur", "1"),
    ("loyalty.enabled_since", "2013-03-01"),
    ("wholesale.default_terms_days", "30"),
    ("wholesale.credit_check", "manual"),
    ("tracking.enabled_since", "2020-01-01"),
    ("notifications.email_enabled_since", "2020-01-01"),
    ("search.log_enabled", "true"),
    ("search.engine", "legacy-like"),
    ("inventory.allow_negative", "false"),
    ("inventory.default_reorder_level", "20"),
    ("erp.price_import_path", "/mnt/erp/export/prices_*.csv"),
    ("erp.price_import_enabled", "false"),
    ("mail.smtp_host", "smtp.internal.example"),
    ("mail.from_address", "shop@example.com"),
    ("cms.default_language", "en"),
    ("currency.base", "EUR"),
    ("currency.rates_source", "weekly manual upload"),
    ("maintenance.mode", "off"),
)

SEARCH_TERMS: tuple[str, ...] = (
    "kettle", "frying pan", "yoga mat", "led bulb", "headphones", "tent", "drill", "garden hose", "lamp",
    "usb c cable", "power bank", "dog bed", "coffee", "knife", "towel", "pillow", "printer", "toner",
    "puzzle", "board game", "bike light", "helmet", "grill", "solar light", "smart plug", "webcam",
    "shower head", "mirror", "vacuum", "blender", "gift card", "sale", "christmas", "black friday",
)

RETURN_REASONS: tuple[str, ...] = (
    "Damaged in transit", "Wrong item sent", "Not as described", "No longer needed", "Better price elsewhere",
    "Arrived too late", "Defective",
)

NOTE_TEXTS: dict[str, tuple[str, ...]] = {
    "order": (
        "Customer called about delivery date",
        "Gift wrap requested",
        "Address corrected by phone",
        "Priority: complaint escalated",
        "Customer asked for invoice copy",
    ),
    "customer": (
        "Prefers phone contact",
        "Frequent returner, check condition",
        "VIP since campaign",
        "GDPR information request answered",
        "Do not send catalogue",
    ),
    "return": (
        "Packaging missing",
        "Item resold as B-stock",
        "Courier pickup arranged",
        "Refund approved by supervisor",
    ),
    "supplier": (
        "New price list received",
        "Late deliveries this quarter",
        "Quality audit passed",
        "Contact changed, see SupplierContact",
    ),
    "product": (
        "Photo needs replacing",
        "Supplier changed packaging",
        "Check EAN on label",
        "Frequent damage in transit",
    ),
    "purchase_order": ("Partial delivery expected", "Confirmed by supplier", "Container delayed in port"),
}
