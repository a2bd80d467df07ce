"""The items' forms: the list's search (a GET form, no CSRF token), an item by hand, and a
webstore product mapped to an item."""

from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import DecimalField, Form, IntegerField, SearchField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from portal.models import ItemType
from portal.sync.money import AMOUNT_DIGITS, AMOUNT_PLACES, plain_amount, unit_of

TYPE_LABELS = {
    ItemType.INVENTORY: "Inventory",
    ItemType.SERVICE: "Service (e.g. shipping charges)",
    ItemType.NON_INVENTORY: "Non-inventory (e.g. lines without a product)",
}


def strip(value):
    return value.strip() if isinstance(value, str) else value


def upper(value):
    return value.strip().upper() if isinstance(value, str) else value


class ItemSearchForm(Form):
    q = SearchField(
        "Search",
        filters=[strip],
        validators=[Optional(), Length(max=100)],
        description="Item no., description or SKU, or a part of one",
    )

    def search(self) -> str:
        """The term, or nothing where it is not valid (the error is shown beside it)."""
        self.validate()
        return "" if self.q.errors else (self.q.data or "")


# Below what an amount column holds (Money: 19 digits, 4 of them decimals).
MAX_PRICE = Decimal(10) ** (AMOUNT_DIGITS - AMOUNT_PLACES)


def kept_as_typed(form, field) -> None:
    """A price the ERP keeps as typed: more decimals than its columns hold are refused,
    never rounded away."""
    price = field.data
    if price is None:
        return
    if not price.is_finite():
        raise ValidationError("Give the unit price as a number.")
    if price < 0:
        raise ValidationError("The unit price cannot be negative.")
    if price >= MAX_PRICE:
        raise ValidationError("The unit price is too large.")
    if price != price.quantize(unit_of(AMOUNT_PLACES)):
        raise ValidationError(
            f"The unit price has more decimals than the ERP keeps ({AMOUNT_PLACES}): give "
            f"it with {AMOUNT_PLACES} at most, so that nothing is rounded."
        )


class PriceField(DecimalField):
    """A price shown as kept: 1979.667 stays so (a field of 2 places would show 1979.67,
    and saving the form unchanged would round it)."""

    def _value(self) -> str:
        if self.raw_data or self.data is None:
            return super()._value()
        return str(plain_amount(self.data, 2))


class ItemForm(FlaskForm):
    description = StringField(
        "Description", filters=[strip], validators=[DataRequired(), Length(max=200)]
    )
    sku = StringField(
        "SKU",
        filters=[strip],
        validators=[Optional(), Length(max=100)],
        description="How an order line finds its item; unique. Leave blank for none.",
    )
    item_type = SelectField(
        "Type",
        choices=[SelectChoice(t.value, label) for t, label in TYPE_LABELS.items()],
        default=ItemType.INVENTORY.value,
    )
    base_unit_of_measure = StringField(
        "Base unit of measure",
        filters=[upper],
        default="PCS",
        validators=[DataRequired(), Length(max=10)],
    )
    unit_price = PriceField(
        "Unit price",
        default=Decimal("0.00"),
        validators=[InputRequired(message="Give a unit price (0 for none)."), kept_as_typed],
        description=f"Up to {AMOUNT_PLACES} decimals",
    )

    def values(self) -> dict:
        return {
            "description": self.description.data,
            "sku": self.sku.data or None,
            "item_type": ItemType(self.item_type.data),
            "base_unit_of_measure": self.base_unit_of_measure.data,
            "unit_price": self.unit_price.data,
        }


class MappingForm(FlaskForm):
    product_id = IntegerField(
        "Product ID",
        validators=[
            InputRequired(message="Give the store's product ID."),
            NumberRange(min=1, max=2**62, message="A product ID is a whole number from 1."),
        ],
    )
    variation_id = IntegerField(
        "Variation ID",
        default=0,
        validators=[
            InputRequired(message="Give the variation ID, 0 for none."),
            NumberRange(min=0, max=2**62, message="A variation ID is a whole number, 0 for none."),
        ],
        description="0 for a product without variations",
    )
    item_number = StringField(
        "Item no.",
        filters=[upper],
        validators=[DataRequired(message="Give the number of an existing item."), Length(max=20)],
    )
