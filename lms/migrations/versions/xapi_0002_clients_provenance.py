"""xapi clients provenance: kind, trust level and home pages of LRS clients, last request time

Revision ID: xapi_0002
Revises: 0002_records
Create Date: 2026-12-03 18:07:58.449343

"""
from alembic import op
import sqlalchemy as sa

import lms.core.db  # noqa: F401  (custom column types)
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = 'xapi_0002'
down_revision = '0002_records'
branch_labels = None
depends_on = None

# Copied, not imported (lms.records.provenance may change; this revision may not).
KINDS = ('system', 'launch')
TRUST_LEVELS = ('untrusted', 'standard', 'assessment')


def upgrade():
    # Nullable first, filled, then NOT NULL: existing rows are launch credentials when bound to a
    # user, registered systems otherwise, all of standard trust with no home pages.
    with op.batch_alter_table('xapi_clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_request_at', lms.core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('kind', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('trust_level', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('home_pages', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True))

    op.execute("UPDATE xapi_clients SET kind = CASE WHEN user_id IS NOT NULL THEN 'launch' ELSE 'system' END, "
               "trust_level = 'standard', home_pages = '[]'")

    with op.batch_alter_table('xapi_clients', schema=None) as batch_op:
        batch_op.alter_column('kind', existing_type=sa.String(length=10), nullable=False)
        batch_op.alter_column('trust_level', existing_type=sa.String(length=20), nullable=False)
        batch_op.alter_column('home_pages', existing_type=sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False)
        batch_op.create_check_constraint(op.f('ck_xapi_clients_kind'),
                                         "kind IN (" + ", ".join(f"'{k}'" for k in KINDS) + ")")
        batch_op.create_check_constraint(op.f('ck_xapi_clients_trust_level'),
                                         "trust_level IN (" + ", ".join(f"'{t}'" for t in TRUST_LEVELS) + ")")


def downgrade():
    with op.batch_alter_table('xapi_clients', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_xapi_clients_trust_level'), type_='check')
        batch_op.drop_constraint(op.f('ck_xapi_clients_kind'), type_='check')
        batch_op.drop_column('home_pages')
        batch_op.drop_column('trust_level')
        batch_op.drop_column('kind')
        batch_op.drop_column('last_request_at')
