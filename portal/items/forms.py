"""The items' forms: the list's search (a GET form, no CSRF token), an item by hand, and a
webstore product mapped to an item."""

from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import DecimalField, Form, IntegerField, SearchField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.models import ItemType

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
    unit_price = DecimalField(
        "Unit price",
        places=2,
        default=Decimal("0.00"),
        validators=[
            InputRequired(message="Give a unit price (0 for none)."),
            NumberRange(min=0, message="The unit price cannot be negative."),
            NumberRange(max=Decimal("999999999999.99"), message="The unit price is too large."),
        ],
    )

    def values(self) -> dict:
        return {
            "description": self.description.data,
            "sku": self.sku.data or None,
            "item_type": ItemType(self.item_type.data),
            "base_unit_of_measure": self.base_unit_of_measure.data,
            "unit_price": self.unit_price.data.quantize(Decimal("0.01")),
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
